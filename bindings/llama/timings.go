package llama

import "time"

// StopReason says why Generate stopped.
type StopReason int

const (
	StopNone        StopReason = iota // not stopped (or failed before generating)
	StopEOG                           // the model produced an end-of-generation token
	StopMaxTokens                     // GenerateOptions.MaxTokens tokens were generated
	StopWord                          // a stop word appeared
	StopCallback                      // OnToken returned false
	StopContextFull                   // the context window filled up
	StopCanceled                      // the context.Context was cancelled
)

func (r StopReason) String() string {
	switch r {
	case StopEOG:
		return "end of generation"
	case StopMaxTokens:
		return "max tokens"
	case StopWord:
		return "stop word"
	case StopCallback:
		return "stopped by callback"
	case StopContextFull:
		return "context full"
	case StopCanceled:
		return "canceled"
	default:
		return "none"
	}
}

// Timings are the measurements of one Generate call, taken in Go around the
// llama.cpp calls, with the settings that shaped them.
type Timings struct {
	// PromptTokens is the number of prompt tokens prefilled.
	PromptTokens int
	// PrefillDuration is the time Prefill took.
	PrefillDuration time.Duration
	// TTFT (time to first token) runs from the start of the prefill to the
	// first sampled token.
	TTFT time.Duration
	// GeneratedTokens counts the tokens generated, not counting a final
	// end-of-generation token.
	GeneratedTokens int
	// DecodeTokens counts the single-token decodes after the first token
	// and DecodeDuration is the time from the first token to the end of
	// generation: together they give the decode speed.
	DecodeTokens   int
	DecodeDuration time.Duration
	// StopReason says why generation stopped.
	StopReason StopReason
	// QuokaUbatches counts the prefill ubatches of this call that ran QUOKA
	// sparse attention (0 when every chunk attended densely).
	QuokaUbatches int

	// The settings in effect: the prefill chunk (n_ubatch), the context size
	// and the QUOKA options.
	NUBatch int
	NCtx    int
	Quoka   QuokaOptions
}

// PrefillTokensPerSecond is the prefill speed (0 when nothing was timed).
func (t Timings) PrefillTokensPerSecond() float64 {
	return perSecond(t.PromptTokens, t.PrefillDuration)
}

// DecodeTokensPerSecond is the decode speed (0 when nothing was timed).
func (t Timings) DecodeTokensPerSecond() float64 {
	return perSecond(t.DecodeTokens, t.DecodeDuration)
}

func perSecond(n int, d time.Duration) float64 {
	if n == 0 || d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}
