package llama

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"
)

// GenerateOptions configures Generate.
type GenerateOptions struct {
	// MaxTokens caps the tokens generated; <= 0 means no cap (generation
	// then ends at end-of-generation or when the context is full).
	MaxTokens int
	// Sampler configures the sampling; the zero value is greedy.
	Sampler SamplerParams
	// StopWords end generation when one of them appears in the output; the
	// returned text stops before it.
	StopWords []string
	// OnToken, when set, receives the output as it is generated, in pieces
	// of whole UTF-8 characters, never including (part of) a stop word.
	// Returning false stops generation.
	OnToken func(piece string) bool
	// ParseSpecial tokenizes special-token text in the prompt (chat markers
	// such as "<|im_start|>") as the special tokens.
	ParseSpecial bool
	// PrefillProgress, when set, is called after each n_batch piece of the
	// prompt is prefilled.
	PrefillProgress func(done, total int)
	// Chain, when set, is the sampler used instead of one built from
	// Sampler (the caller keeps ownership and frees it).
	Chain *Sampler
	// OnTokenID, when set, receives each sampled token that is not an
	// end-of-generation token, in order, before its text is emitted.
	OnTokenID func(Token)
}

// Generate continues the sequence in the KV cache with prompt and generates
// a completion: it tokenizes the prompt (adding BOS when the KV cache is
// empty) and calls GenerateTokens.
func (c *Session) Generate(ctx context.Context, prompt string, opts GenerateOptions) (string, Timings, error) {
	if c.live() == nil {
		return "", c.newTimings(), ErrClosed
	}
	tokens, err := c.Tokenize(prompt, c.NPast() == 0, opts.ParseSpecial)
	if err != nil {
		return "", c.newTimings(), err
	}
	return c.GenerateTokens(ctx, tokens, opts)
}

// GenerateTokens prefills the prompt tokens after the NPast positions
// already in the KV cache, then samples and decodes token by token.
// (opts.ParseSpecial does not apply: the prompt is already tokenized.)
//
// It returns the generated text (without the prompt), the timings, and an
// error for failures or cancellation; reaching MaxTokens, a stop word or a
// full context are normal ends, told apart by Timings.StopReason. On a
// cancellation or error the text generated so far is returned with it.
//
// Afterwards the KV cache holds the prompt and every generated token whose
// text was returned, except when generation ended on a stop word, a false
// OnToken, a full context or an error: call ClearKV (or TruncateKV) before
// reusing it for a conversation then.
func (c *Session) GenerateTokens(ctx context.Context, tokens []Token, opts GenerateOptions) (string, Timings, error) {
	t := c.newTimings()
	if c.live() == nil {
		return "", t, ErrClosed
	}
	t.PromptTokens = len(tokens)
	smpl := opts.Chain
	if smpl == nil {
		var err error
		if smpl, err = NewSampler(opts.Sampler); err != nil {
			return "", t, err
		}
		defer smpl.Free()
	}

	start := time.Now()
	quoka0 := c.QuokaUbatches()
	err := c.Prefill(ctx, tokens, opts.PrefillProgress)
	t.PrefillDuration = time.Since(start)
	t.QuokaUbatches = c.QuokaUbatches() - quoka0
	if err != nil {
		if ctx.Err() != nil {
			t.StopReason = StopCanceled
		}
		return "", t, err
	}

	out := newTextStream(opts.StopWords, opts.OnToken)
	var firstToken time.Time
	for t.StopReason == StopNone {
		tok, err := smpl.Sample(c, -1)
		if err != nil {
			return out.text(), t, err
		}
		if firstToken.IsZero() {
			firstToken = time.Now()
			t.TTFT = firstToken.Sub(start)
		}
		if c.res.ref.isEOG(tok) {
			t.StopReason = StopEOG
			break
		}
		t.GeneratedTokens++
		if opts.OnTokenID != nil {
			opts.OnTokenID(tok)
		}
		if !out.push(c.res.ref.piece(tok)) {
			t.StopReason = out.reason
			break
		}
		if c.NPast() >= c.NCtx() {
			t.StopReason = StopContextFull
			break
		}
		// Decode even the last token so that the KV cache holds all the
		// text returned, ready for the next turn of a conversation.
		c.batch.Clear()
		c.batch.add(tok, c.NPast(), true)
		if err := c.Decode(ctx, c.batch); err != nil {
			t.DecodeDuration = time.Since(firstToken)
			if ctx.Err() != nil {
				t.StopReason = StopCanceled
			}
			out.flush()
			return out.text(), t, err
		}
		t.DecodeTokens++
		if opts.MaxTokens > 0 && t.GeneratedTokens >= opts.MaxTokens {
			t.StopReason = StopMaxTokens
		}
	}
	if t.StopReason != StopWord && t.StopReason != StopCallback {
		out.flush() // (after those, the text held back is dropped)
	}
	if !firstToken.IsZero() {
		t.DecodeDuration = time.Since(firstToken)
	}
	return out.text(), t, nil
}

func (c *Session) newTimings() Timings {
	return Timings{NUBatch: c.params.NUBatch, NCtx: c.params.NCtx, Quoka: c.params.Quoka}
}

// textStream assembles token pieces into the output text: it holds back
// the bytes of a UTF-8 character split across tokens and any tail that might
// begin a stop word, and cuts the text at the first stop word.
type textStream struct {
	stops   []string
	onText  func(string) bool
	out     strings.Builder
	partial []byte // incomplete UTF-8 character at the end
	held    string // complete text that may begin a stop word
	reason  StopReason
}

func newTextStream(stops []string, onText func(string) bool) *textStream {
	s := &textStream{onText: onText}
	for _, w := range stops {
		if w != "" {
			s.stops = append(s.stops, w)
		}
	}
	return s
}

// push adds a token's bytes. It returns false when generation should stop
// (a stop word appeared or the callback said so); reason then says which.
func (s *textStream) push(piece []byte) bool {
	s.partial = append(s.partial, piece...)
	cut := completeUTF8(s.partial)
	text := s.held + string(s.partial[:cut])
	s.partial = append(s.partial[:0], s.partial[cut:]...)

	if i := s.firstStop(text); i >= 0 {
		s.held, s.partial = "", nil
		s.emit(text[:i])
		s.reason = StopWord
		return false
	}
	keep := s.stopPrefixLen(text)
	s.held = text[len(text)-keep:]
	return s.emit(text[:len(text)-keep])
}

// flush emits what was held back, including invalid trailing bytes.
func (s *textStream) flush() {
	text := s.held + string(s.partial)
	s.held, s.partial = "", nil
	s.emit(text)
}

func (s *textStream) text() string { return s.out.String() }

func (s *textStream) emit(text string) bool {
	if text == "" {
		return true
	}
	s.out.WriteString(text)
	if s.onText != nil && !s.onText(text) {
		s.reason = StopCallback
		return false
	}
	return true
}

// firstStop is the index of the earliest stop word in text, or -1.
func (s *textStream) firstStop(text string) int {
	first := -1
	for _, w := range s.stops {
		if i := strings.Index(text, w); i >= 0 && (first < 0 || i < first) {
			first = i
		}
	}
	return first
}

// stopPrefixLen is the length of the longest suffix of text that is a
// proper prefix of a stop word.
func (s *textStream) stopPrefixLen(text string) int {
	longest := 0
	for _, w := range s.stops {
		for n := min(len(w)-1, len(text)); n > longest; n-- {
			if strings.HasSuffix(text, w[:n]) {
				longest = n
				break
			}
		}
	}
	return longest
}

// completeUTF8 is the length of the longest prefix of b that does not end
// in the middle of a UTF-8 character. Invalid bytes count as complete.
func completeUTF8(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return i
			}
			break
		}
	}
	return len(b)
}
