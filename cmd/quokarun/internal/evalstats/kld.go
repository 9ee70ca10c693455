// Package evalstats computes the fidelity statistics of `quokarun eval kld`: the KL divergence of
// QUOKA's next-token distributions from the dense ones, top-1 agreement and perplexity, pooled over
// positions, with the same definitions as llama-perplexity's KL-divergence mode.
package evalstats

import (
	"fmt"
	"math"
	"sort"
)

// KLD pools per-position statistics. The zero value is ready to use.
type KLD struct {
	kl       []float64
	top1     int
	nllBase  float64
	nllTest  float64
	nScored  int
	sumKL    float64
	sumKL2   float64
	maxKL    float64
	scratchB []float64
	scratchT []float64
}

// Result is a summary of the pooled statistics.
type Result struct {
	Positions  int     `json:"positions"`
	MeanKL     float64 `json:"mean_kl"`
	MeanKLErr  float64 `json:"mean_kl_stderr"`
	MedianKL   float64 `json:"median_kl"`
	P99KL      float64 `json:"p99_kl"`
	MaxKL      float64 `json:"max_kl"`
	Top1       float64 `json:"top1_agreement"`
	PPLBase    float64 `json:"ppl_dense"`
	PPLTest    float64 `json:"ppl_quoka"`
	ScoredNext int     `json:"scored_next"`
}

// logSoftmax writes log p into out and returns it.
func logSoftmax(logits []float32, out []float64) []float64 {
	out = out[:0]
	mx := math.Inf(-1)
	for _, v := range logits {
		mx = math.Max(mx, float64(v))
	}
	sum := 0.0
	for _, v := range logits {
		sum += math.Exp(float64(v) - mx)
	}
	lse := mx + math.Log(sum)
	for _, v := range logits {
		out = append(out, float64(v)-lse)
	}
	return out
}

func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

// Add pools one position: base (dense) and test (QUOKA) logits over the vocabulary, and next, the
// token that follows (or a negative value when there is none; perplexity then skips it).
func (k *KLD) Add(base, test []float32, next int) error {
	if len(base) != len(test) || len(base) == 0 {
		return fmt.Errorf("evalstats: logits of different sizes (%d, %d)", len(base), len(test))
	}
	k.scratchB = logSoftmax(base, k.scratchB)
	k.scratchT = logSoftmax(test, k.scratchT)
	kl := 0.0
	for i, lb := range k.scratchB {
		if pb := math.Exp(lb); pb > 0 {
			kl += pb * (lb - k.scratchT[i])
		}
	}
	kl = math.Max(kl, 0) // rounding can give -1e-16
	k.kl = append(k.kl, kl)
	k.sumKL += kl
	k.sumKL2 += kl * kl
	k.maxKL = math.Max(k.maxKL, kl)
	if argmax(base) == argmax(test) {
		k.top1++
	}
	if next >= 0 && next < len(base) {
		k.nllBase -= k.scratchB[next]
		k.nllTest -= k.scratchT[next]
		k.nScored++
	}
	return nil
}

// Len is the number of pooled positions.
func (k *KLD) Len() int { return len(k.kl) }

// Result summarises the pooled positions.
func (k *KLD) Result() Result {
	n := len(k.kl)
	r := Result{Positions: n, ScoredNext: k.nScored}
	if n == 0 {
		return r
	}
	sorted := append([]float64(nil), k.kl...)
	sort.Float64s(sorted)
	r.MeanKL = k.sumKL / float64(n)
	if n > 1 {
		v := (k.sumKL2/float64(n) - r.MeanKL*r.MeanKL) * float64(n) / float64(n-1)
		r.MeanKLErr = math.Sqrt(math.Max(v, 0) / float64(n))
	}
	r.MedianKL = Percentile(sorted, 0.5)
	r.P99KL = Percentile(sorted, 0.99)
	r.MaxKL = k.maxKL
	r.Top1 = float64(k.top1) / float64(n)
	if k.nScored > 0 {
		r.PPLBase = math.Exp(k.nllBase / float64(k.nScored))
		r.PPLTest = math.Exp(k.nllTest / float64(k.nScored))
	}
	return r
}

// Percentile of sorted values with linear interpolation between closest ranks (q in [0, 1]).
func Percentile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	frac := pos - float64(lo)
	return sorted[lo]*(1-frac) + sorted[hi]*frac
}
