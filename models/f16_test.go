package models

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestF32ToF16(t *testing.T) {
	tests := []struct {
		name string
		in   float32
		want uint16
	}{
		{"zero", 0, 0x0000},
		{"negative zero", float32(math.Copysign(0, -1)), 0x8000},
		{"one", 1, 0x3c00},
		{"minus two", -2, 0xc000},
		{"half", 0.5, 0x3800},
		{"0.1 rounds", 0.1, 0x2e66},
		{"0.02", 0.02, 0x251f},
		{"max half", 65504, 0x7bff},
		{"rounds to inf", 65520, 0x7c00},
		{"overflow", 1e6, 0x7c00},
		{"inf", float32(math.Inf(1)), 0x7c00},
		{"minus inf", float32(math.Inf(-1)), 0xfc00},
		{"nan", float32(math.NaN()), 0x7e00},
		{"smallest normal", float32(math.Ldexp(1, -14)), 0x0400},
		{"largest subnormal", float32(math.Ldexp(1023, -24)), 0x03ff},
		{"smallest subnormal", float32(math.Ldexp(1, -24)), 0x0001},
		{"half of smallest subnormal ties to zero", float32(math.Ldexp(1, -25)), 0x0000},
		{"above half of smallest subnormal", float32(math.Ldexp(1.5, -25)), 0x0001},
		{"underflow", 1e-10, 0x0000},
		{"tie to even down", 1 + float32(math.Ldexp(1, -11)), 0x3c00},
		{"tie to even up", 1 + float32(math.Ldexp(3, -11)), 0x3c02},
		{"subnormal rounds up to normal", float32(math.Ldexp(1023.5, -24)), 0x0400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equalf(t, tc.want, f32ToF16(tc.in), "got %#04x", f32ToF16(tc.in))
		})
	}
}

func TestApproxNormalMoments(t *testing.T) {
	rng := chunkRNG(1, 0)
	const n = 200000
	var sum, sq float64
	for i := 0; i < n; i++ {
		v := float64(approxNormal(rng.next(), synthStd))
		sum += v
		sq += v * v
	}
	mean := sum / n
	std := math.Sqrt(sq/n - mean*mean)
	assert.InDelta(t, 0, mean, 0.001)
	assert.InDelta(t, synthStd, std, 0.001)
}

// f16ToF32 decodes an IEEE half (normal and subnormal values; tests only).
func f16ToF32(h uint16) float32 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp, frac := int(h>>10)&0x1f, float64(h&0x3ff)
	if exp == 0 {
		return float32(sign * math.Ldexp(frac, -24))
	}
	return float32(sign * math.Ldexp(1024+frac, exp-25))
}

func TestF16ToF32RoundTrip(t *testing.T) {
	for _, v := range []float32{0, 1, -2, 0.5, 65504, float32(math.Ldexp(1023, -24)), float32(math.Ldexp(1, -14))} {
		assert.Equal(t, v, f16ToF32(f32ToF16(v)), "%g", v)
	}
}
