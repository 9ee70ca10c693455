package llama

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unsafe"
)

// SpeculationStats counts the draft tokens of the last SpeculativeSampling.
type SpeculationStats struct {
	Steps    int // target model decodes after the prompt
	Drafted  int // tokens the draft model proposed
	Accepted int // proposed tokens the target model accepted
}

// defaultNDraft is SetNDraft's default, as llama.cpp's speculative example.
const defaultNDraft = 16

// SpeculativeSampling generates a completion of text with l as the target
// model and draft (a smaller model with the same vocabulary) proposing
// tokens: each step the draft greedily proposes up to SetNDraft tokens, the
// target decodes them in one batch and samples its own token at each of
// them in turn, keeping the proposals up to the first one that differs
// from its own choice, and that choice. Every token is thus sampled from
// the target's distribution, with the sampler chain Predict would use, so
// with greedy sampling (SetTemperature(0)) the output equals Predict's up to
// floating-point differences between batched and one-token decodes.
//
// Both models start from an empty KV cache. The options are Predict's; the
// draft model only uses SetThreads. Its statistics are in LastSpeculation.
// QUOKA, when enabled on the target, also applies to the verification
// batches (they are several tokens long), so its output may then differ
// from Predict's, which decodes one token at a time.
func (l *LLama) SpeculativeSampling(draft *LLama, text string, opts ...PredictOption) (string, error) {
	if draft == nil || draft == l {
		return "", errors.New("llama: speculative sampling needs a distinct draft model")
	}
	o := NewPredictOptions(opts...)
	// Lock in address order so that a.SpeculativeSampling(b) and
	// b.SpeculativeSampling(a) cannot deadlock.
	first, second := l, draft
	if uintptr(unsafe.Pointer(draft)) < uintptr(unsafe.Pointer(l)) {
		first, second = draft, l
	}
	first.mu.Lock()
	defer first.mu.Unlock()
	second.mu.Lock()
	defer second.mu.Unlock()
	if l.ctx.live() == nil || draft.ctx.live() == nil {
		return "", ErrClosed
	}
	if n, m := l.model.VocabSize(), draft.model.VocabSize(); n != m ||
		l.model.BOS() != draft.model.BOS() || l.model.EOS() != draft.model.EOS() {
		return "", fmt.Errorf("llama: the draft model's vocabulary (%d tokens) differs from the target's (%d)", m, n)
	}
	if err := l.prepare(o); err != nil {
		return "", err
	}
	if o.Threads > 0 {
		draft.ctx.SetThreads(o.Threads, o.Threads)
	}
	ctx := o.callContext()
	onToken := l.onToken(o)
	toks, err := l.ctx.Tokenize(text, true, false)
	if err != nil {
		return "", err
	}
	if len(toks) == 0 {
		return "", errors.New("llama: speculative sampling of an empty prompt")
	}
	smpl, err := predictSampler(l.ctx.res.ref, l.ctx.NCtx(), o, l.opts.Seed, toks)
	if err != nil {
		return "", err
	}
	defer smpl.Free()
	greedy, err := NewSampler(SamplerParams{})
	if err != nil {
		return "", err
	}
	defer greedy.Free()

	s := &speculation{
		tgt: l.ctx, dft: draft.ctx, smpl: smpl, greedy: greedy,
		nDraft: o.NDraft, maxTokens: o.Tokens, out: newTextStream(o.StopPrompts, onToken),
	}
	if s.nDraft <= 0 {
		s.nDraft = defaultNDraft
	}
	out, t, err := s.run(ctx, toks)
	l.timings, l.speculation = t, s.stats
	l.past = s.seq[:min(len(s.seq), l.ctx.NPast())]
	draft.past = s.seq[:min(len(s.seq), draft.ctx.NPast())]
	l.reuse, draft.reuse = false, false
	return out, err
}

// LastSpeculation returns the draft statistics of the last
// SpeculativeSampling on l (as the target).
func (l *LLama) LastSpeculation() SpeculationStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.speculation
}

// speculation is the state of one SpeculativeSampling.
type speculation struct {
	tgt, dft     *Session
	smpl, greedy *Sampler
	nDraft       int
	maxTokens    int
	out          *textStream
	seq          []Token // prompt and accepted tokens
	tPast, dPast int     // leading tokens of seq held in each KV cache
	generated    int
	stats        SpeculationStats
}

func (s *speculation) run(ctx context.Context, prompt []Token) (string, Timings, error) {
	t := s.tgt.newTimings()
	t.PromptTokens = len(prompt)
	s.seq = append([]Token(nil), prompt...)
	s.tgt.ClearKV()
	s.dft.ClearKV()
	start := time.Now()
	if err := s.tgt.Prefill(ctx, prompt, nil); err != nil {
		return "", t, err
	}
	t.PrefillDuration = time.Since(start)
	s.tPast = len(prompt)
	// The target's first token comes from the prompt's logits.
	tok, err := s.smpl.Sample(s.tgt, -1)
	if err != nil {
		return "", t, err
	}
	t.TTFT = time.Since(start)
	firstToken := time.Now()
	defer func() { t.DecodeDuration = time.Since(firstToken) }()
	if !s.emit(tok, &t) {
		return s.finish(&t), t, nil
	}
	for {
		if err := ctx.Err(); err != nil {
			t.StopReason = StopCanceled
			s.out.flush()
			return s.out.text(), t, fmt.Errorf("llama: speculative sampling: %w", err)
		}
		// Room for the pending token and the drafts in both contexts.
		room := min(s.tgt.NCtx(), s.dft.NCtx()) - len(s.seq)
		if room <= 0 {
			t.StopReason = StopContextFull
			return s.finish(&t), t, nil
		}
		n := min(s.nDraft, room-1, s.tgt.Params().NBatch-1)
		if s.maxTokens > 0 {
			n = min(n, s.maxTokens-s.generated-1)
		}
		drafts, err := s.propose(ctx, max(n, 0))
		if err != nil {
			return s.fail(&t, err)
		}
		accepted, err := s.verify(ctx, drafts)
		if err != nil {
			return s.fail(&t, err)
		}
		t.DecodeTokens += len(drafts) + 1
		for _, a := range accepted {
			if !s.emit(a, &t) {
				return s.finish(&t), t, nil
			}
		}
	}
}

// emit appends an accepted token to the output; false means generation
// ends (t.StopReason says why).
func (s *speculation) emit(tok Token, t *Timings) bool {
	if s.tgt.res.ref.isEOG(tok) {
		t.StopReason = StopEOG
		return false
	}
	s.seq = append(s.seq, tok)
	s.generated++
	t.GeneratedTokens++
	if !s.out.push(s.tgt.res.ref.piece(tok)) {
		t.StopReason = s.out.reason
		return false
	}
	if s.maxTokens > 0 && s.generated >= s.maxTokens {
		t.StopReason = StopMaxTokens
		return false
	}
	return true
}

func (s *speculation) finish(t *Timings) string {
	if t.StopReason != StopWord && t.StopReason != StopCallback {
		s.out.flush()
	}
	return s.out.text()
}

func (s *speculation) fail(t *Timings, err error) (string, Timings, error) {
	s.out.flush()
	return s.out.text(), *t, err
}

// propose brings the draft's KV cache up to seq and lets it greedily
// propose n tokens.
func (s *speculation) propose(ctx context.Context, n int) ([]Token, error) {
	if n == 0 {
		return nil, nil
	}
	if err := s.dft.TruncateKV(s.dPast); err != nil {
		return nil, err
	}
	pending := s.seq[s.dPast:]
	if err := s.dft.Prefill(ctx, pending, nil); err != nil {
		return nil, fmt.Errorf("draft model: %w", err)
	}
	s.dPast = len(s.seq)
	drafts := make([]Token, 0, n)
	for i := 0; i < n; i++ {
		d, err := s.greedy.Sample(s.dft, -1)
		if err != nil {
			return nil, fmt.Errorf("draft model: %w", err)
		}
		drafts = append(drafts, d)
		if i == n-1 || s.dft.res.ref.isEOG(d) {
			break
		}
		s.dft.batch.Clear()
		s.dft.batch.add(d, s.dft.NPast(), true)
		if err := s.dft.Decode(ctx, s.dft.batch); err != nil {
			return nil, fmt.Errorf("draft model: %w", err)
		}
	}
	s.stats.Drafted += len(drafts)
	return drafts, nil
}

// verify decodes the target's pending tokens and the drafts in one batch
// and samples the target's token after each, in order, stopping at the
// first that differs from the draft. It returns the accepted drafts and the
// target's own token after them, and trims both KV caches to the accepted
// sequence.
func (s *speculation) verify(ctx context.Context, drafts []Token) ([]Token, error) {
	if err := s.tgt.TruncateKV(s.tPast); err != nil {
		return nil, err
	}
	pending := s.seq[s.tPast:] // at least the last accepted token
	b := s.tgt.batch
	b.Clear()
	base := s.tPast
	for i, t := range pending {
		b.add(t, base+i, i == len(pending)-1)
	}
	for i, d := range drafts {
		b.add(d, base+len(pending)+i, true)
	}
	if err := s.tgt.Decode(ctx, b); err != nil {
		return nil, err
	}
	s.stats.Steps++
	nOut := len(drafts) + 1
	var accepted []Token
	for j := 0; j < nOut; j++ {
		// Negative indices count outputs from the end.
		tok, err := s.smpl.Sample(s.tgt, j-nOut)
		if err != nil {
			return nil, err
		}
		accepted = append(accepted, tok)
		if j == len(drafts) || tok != drafts[j] {
			break
		}
		s.stats.Accepted++
	}
	// The target's KV cache now holds seq and all the drafts; keep seq and
	// the accepted drafts (the last accepted token is the target's own, not
	// decoded yet). The draft's holds seq and all drafts but the last.
	keep := len(s.seq) + len(accepted) - 1
	if err := s.tgt.TruncateKV(keep); err != nil {
		return nil, err
	}
	s.tPast = keep
	s.dPast = min(keep, s.dft.NPast())
	return accepted, nil
}
