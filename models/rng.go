package models

import (
	"math"
	"sync"
)

// splitMix64 is the SplitMix64 generator: tiny, fast and good enough for
// random weights. Its whole state is one uint64, so every chunk of a
// tensor can get its own generator derived from the seed, which keeps the
// output deterministic when chunks are generated in parallel.
type splitMix64 uint64

func (s *splitMix64) next() uint64 {
	*s += 0x9e3779b97f4a7c15
	z := uint64(*s)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// mix64 scrambles x with one SplitMix64 step.
func mix64(x uint64) uint64 {
	s := splitMix64(x)
	return s.next()
}

// nameSeed derives a per-tensor seed from the model seed and tensor name
// (FNV-1a), so one tensor's values do not depend on the tensors before it.
func nameSeed(seed uint64, name string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(name); i++ {
		h ^= uint64(name[i])
		h *= 1099511628211
	}
	return mix64(seed ^ h)
}

// chunkRNG returns the generator for chunk i of a tensor.
func chunkRNG(tensorSeed uint64, i int) splitMix64 {
	return splitMix64(mix64(tensorSeed + uint64(i)*0xd1b54a32d192ed03))
}

// normalScale maps the centred sum of four 16-bit uniforms (standard
// deviation 65536/sqrt(3)) to a standard deviation of 1.
var normalScale = math.Sqrt(3) / 65536

// irwinHall returns the sum of the four 16-bit fields of r, in [0, 4*65535].
func irwinHall(r uint64) uint64 {
	return r&0xffff + r>>16&0xffff + r>>32&0xffff + r>>48
}

// irwinHallMax is the largest value irwinHall returns.
const irwinHallMax = 4 * 0xffff

// approxNormal returns an approximately normal value with mean 0 and
// standard deviation std (an Irwin-Hall sum of four uniforms, bounded to
// about ±3.5 std): one generator call per value, no transcendental math.
func approxNormal(r uint64, std float64) float32 {
	return irwinHallValue(irwinHall(r), std)
}

func irwinHallValue(s uint64, std float64) float32 {
	return float32((float64(s) - irwinHallMax/2) * normalScale * std)
}

// Lookup tables from an irwinHall sum to the weight value for synthStd,
// in F32 and F16: generating a weight is then one generator call, three
// adds and a load.
var (
	f32NormalTable = sync.OnceValue(func() []float32 {
		t := make([]float32, irwinHallMax+1)
		for s := range t {
			t[s] = irwinHallValue(uint64(s), synthStd)
		}
		return t
	})
	f16NormalTable = sync.OnceValue(func() []uint16 {
		t := make([]uint16, irwinHallMax+1)
		for s, v := range f32NormalTable() {
			t[s] = f32ToF16(v)
		}
		return t
	})
)
