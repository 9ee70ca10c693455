package evalstats

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKLDIdenticalIsZero(t *testing.T) {
	var k KLD
	logits := []float32{1, 2, 3, -1}
	require.NoError(t, k.Add(logits, logits, 2))
	r := k.Result()
	assert.Equal(t, 1, r.Positions)
	assert.InDelta(t, 0, r.MeanKL, 1e-12)
	assert.Equal(t, 1.0, r.Top1)
	assert.InDelta(t, r.PPLBase, r.PPLTest, 1e-12)
}

func TestKLDKnownValue(t *testing.T) {
	// p = (0.5, 0.5), q = (0.25, 0.75): KL = 0.5 ln 2 + 0.5 ln(2/3)
	base := []float32{0, 0}
	test := []float32{0, float32(math.Log(3))}
	var k KLD
	require.NoError(t, k.Add(base, test, 0))
	want := 0.5*math.Log(2) + 0.5*math.Log(2.0/3.0)
	r := k.Result()
	assert.InDelta(t, want, r.MeanKL, 1e-6)
	assert.Equal(t, 0.0, r.Top1) // argmax 0 vs 1
	assert.InDelta(t, 2.0, r.PPLBase, 1e-6)
	assert.InDelta(t, 4.0, r.PPLTest, 1e-5)
}

func TestKLDRejectsMismatchedSizes(t *testing.T) {
	var k KLD
	assert.Error(t, k.Add([]float32{1, 2}, []float32{1}, 0))
	assert.Error(t, k.Add(nil, nil, 0))
}

func TestPercentile(t *testing.T) {
	tests := []struct {
		q    float64
		want float64
	}{{0, 1}, {0.5, 3}, {1, 5}, {0.99, 4.96}}
	s := []float64{1, 2, 3, 4, 5}
	for _, tc := range tests {
		assert.InDelta(t, tc.want, Percentile(s, tc.q), 1e-9, "q=%v", tc.q)
	}
	assert.True(t, math.IsNaN(Percentile(nil, 0.5)))
}
