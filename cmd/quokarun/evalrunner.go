package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/quoka-llm/quoka/bindings/llama"
	"github.com/quoka-llm/quoka/cmd/quokarun/internal/evalrun"
	"github.com/quoka-llm/quoka/cmd/quokarun/internal/prompt"
)

// evalCase is one generated prompt with what scores its answer.
type evalCase struct {
	rec       evalrun.Record // ID, Task, Length, Depth, Trial, Tokens, Answers filled in
	prompt    string
	maxTokens int
	score     func(output string) (score float64, correct bool)
}

// evalRunner runs cases under every setting, one context per setting, writing each record to the
// results file as it finishes.
type evalRunner struct {
	model       *llama.Model
	settings    []evalSetting
	contexts    []*llama.Session
	chat        bool
	checkSparse bool
	captures    []string // per context: the selection captured with checkSparse
	done        map[string]evalrun.Record
	out         *evalrun.Writer
	path        string
	stderr      io.Writer
}

// sparseLayer is the tensor whose captures count the chunks that took the QUOKA path: the
// selection of layer il, the first layer on the QUOKA path.
func sparseLayer(il int) string { return fmt.Sprintf("quoka_sel-%d", il) }

// newEvalRunner creates the contexts (nCtx positions each) and opens the results file: the
// --resume file (its records are kept and not redone) or --results (overwritten).
func newEvalRunner(c *cli.Context, m *llama.Model, base llama.ContextParams, settings []evalSetting, nCtx int) (*evalRunner, error) {
	r := &evalRunner{model: m, settings: settings, chat: c.Bool("chat"), checkSparse: c.Bool("check-sparse"),
		done: map[string]evalrun.Record{}, stderr: c.App.ErrWriter}
	r.path = c.String("results")
	if p := c.String("resume"); p != "" {
		recs, err := evalrun.Load(p)
		if err != nil {
			return nil, err
		}
		r.done, r.path = evalrun.Done(recs), p
	}
	for _, s := range settings {
		p := base
		p.NCtx = nCtx
		p.NUBatch = s.UBatch
		p.NBatch = max(p.NBatch, s.UBatch)
		p.Quoka = s.quoka
		if r.checkSparse {
			p.Capture = []string{sparseLayer(0)}
		}
		lc, err := llama.NewContext(m, p)
		if err != nil {
			r.free()
			return nil, err
		}
		if ls := lc.QuokaLayers(); r.checkSparse && len(ls) > 0 && ls[0] != 0 {
			// layer 0 stays dense (e.g. a sliding-window layer): capture the first sparse one
			lc.Free()
			p.Capture = []string{sparseLayer(ls[0])}
			if lc, err = llama.NewContext(m, p); err != nil {
				r.free()
				return nil, err
			}
		}
		noteQuokaOff(r.stderr, lc, p)
		capture := ""
		if r.checkSparse {
			capture = p.Capture[0]
		}
		r.contexts = append(r.contexts, lc)
		r.captures = append(r.captures, capture)
	}
	return r, nil
}

func (r *evalRunner) free() {
	for _, lc := range r.contexts {
		lc.Free()
	}
	if r.out != nil {
		_ = r.out.Close()
	}
}

// tokenizer counts prompt tokens as the runs will feed them.
func (r *evalRunner) tokenizer() prompt.Tokenizer {
	return prompt.TokenizerFunc(func(s string) (int, error) {
		t, err := r.model.Tokenize(s, true, r.chat)
		return len(t), err
	})
}

// format wraps body and question into the prompt: joined by sep, or as a chat user turn.
func (r *evalRunner) format(sep string) func(body, question string) (string, error) {
	return func(body, question string) (string, error) {
		text := question
		if body != "" {
			text = body + sep + question
		}
		if !r.chat {
			return text, nil
		}
		return r.model.ApplyChatTemplate([]llama.ChatMessage{{Role: "user", Content: text}}, true)
	}
}

// check refuses a resume file written for other prompts (another seed, haystack or template).
func (r *evalRunner) check(cases []evalCase) error {
	for _, ec := range cases {
		h := prompt.Hash(ec.prompt)
		for _, s := range r.settings {
			if d, ok := r.done[evalrun.Key(s.Name, s.UBatch, ec.rec.ID)]; ok && d.PromptHash != h {
				return fmt.Errorf("%w: case %s has another prompt now", evalrun.ErrMismatch, ec.rec.ID)
			}
		}
	}
	return nil
}

// run evaluates every case under every setting (interleaved, so that an interrupted run compares
// like with like) and returns all records, resumed ones included. On Ctrl-C it stops after the
// records written so far and returns errInterrupted.
func (r *evalRunner) run(ctx context.Context, c *cli.Context, what string, cases []evalCase) ([]evalrun.Record, error) {
	if err := r.check(cases); err != nil {
		return nil, err
	}
	var err error
	if r.out, err = evalrun.Create(r.path, c.String("resume") == ""); err != nil {
		return nil, err
	}
	var recs []evalrun.Record
	total := len(cases) * len(r.settings)
	bar := newBar(r.stderr, total, what)
	defer finishBar(bar)
	for _, ec := range cases {
		hash := prompt.Hash(ec.prompt)
		toks, err := r.model.Tokenize(ec.prompt, true, r.chat)
		if err != nil {
			return recs, err
		}
		for i, s := range r.settings {
			if d, ok := r.done[evalrun.Key(s.Name, s.UBatch, ec.rec.ID)]; ok {
				recs = append(recs, d)
				if bar != nil {
					_ = bar.Add(1)
				}
				continue
			}
			rec, err := r.one(ctx, r.contexts[i], r.captures[i], s, ec, toks)
			if err != nil {
				if ctx.Err() != nil && c.Context.Err() == nil {
					finishBar(bar)
					fmt.Fprintf(r.stderr, "quokarun: interrupted after %d of %d runs; the finished ones are in %s (continue with --resume %s)\n",
						len(recs), total, r.path, r.path)
					return recs, errInterrupted
				}
				return recs, fmt.Errorf("case %s (%s): %w", ec.rec.ID, s.Label(), err)
			}
			rec.PromptHash = hash
			if err := r.out.Write(rec); err != nil {
				return recs, err
			}
			recs = append(recs, rec)
			if bar != nil {
				_ = bar.Add(1)
			}
		}
	}
	return recs, nil
}

// one runs one case in one context: prefill from an empty cache, greedy answer.
func (r *evalRunner) one(ctx context.Context, lc *llama.Session, capture string, s evalSetting, ec evalCase, toks []llama.Token) (evalrun.Record, error) {
	lc.ClearKV()
	lc.Captured() // forget earlier captures
	// the selections captured in layer 0: the prefill's, taken when it ends, then the decode steps'
	sparse := func() int {
		n := 0
		for _, t := range lc.Captured() {
			if t.Name == capture {
				n++
			}
		}
		return n
	}
	prefillSparse := -1
	opts := llama.GenerateOptions{MaxTokens: ec.maxTokens}
	if r.checkSparse {
		opts.PrefillProgress = func(done, total int) {
			if done == total {
				prefillSparse = sparse()
			}
		}
	}
	out, tm, err := lc.GenerateTokens(ctx, toks, opts)
	if err != nil {
		return evalrun.Record{}, err
	}
	rec := ec.rec
	rec.Setting, rec.UBatch = s.Name, s.UBatch
	rec.Tokens = len(toks)
	rec.Output = out
	rec.Score, rec.Correct = ec.score(out)
	rec.PrefillMS = float64(tm.PrefillDuration.Microseconds()) / 1e3
	rec.TTFTMS = float64(tm.TTFT.Microseconds()) / 1e3
	rec.SparseChunks, rec.SparseDecode = -1, -1
	if r.checkSparse {
		rec.SparseChunks, rec.SparseDecode = prefillSparse, sparse()
	}
	return rec, nil
}

// evalContextSize is the context of a grid run: -c, or the longest prompt plus the answer. A grid
// that does not fit (or goes past the model's training context without -c) is a usage error.
func evalContextSize(c *cli.Context, m *llama.Model, maxLen, maxTokens int) (int, error) {
	need := maxLen + maxTokens
	if n := c.Int("ctx-size"); n > 0 {
		if need > n {
			return 0, usageErrorf("length %d plus %d answer tokens does not fit in the context (-c %d)", maxLen, maxTokens, n)
		}
		return n, nil
	}
	if train := m.NCtxTrain(); train > 0 && need > train {
		return 0, usageErrorf("length %d plus %d answer tokens is above the model's context of %d tokens (give -c to go past it)",
			maxLen, maxTokens, train)
	}
	return need, nil
}

// readHaystack reads --haystack (nil, nil when it is not given).
func readHaystack(c *cli.Context) (*prompt.TextFiller, error) {
	p := c.String("haystack")
	if p == "" {
		return nil, nil
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("haystack: %w", err)
	}
	f, err := prompt.NewTextFiller(string(data))
	if err != nil {
		return nil, fmt.Errorf("haystack %s: %w", p, err)
	}
	return f, nil
}

// evalCommon checks the flags every grid evaluation shares, before any model is loaded.
func evalCommon(c *cli.Context) (path string, lengths []int, settings []evalSetting, base llama.ContextParams, err error) {
	if path, err = modelPath(c); err != nil {
		return
	}
	if c.NArg() > 0 {
		err = usageErrorf("unexpected argument %q (see --help)", c.Args().First())
		return
	}
	if lengths, err = parseLengths(c.String("lengths")); err != nil {
		return
	}
	if c.Int("trials") < 1 {
		err = usageErrorf("--trials must be at least 1")
		return
	}
	if err = evalrun.CheckFormat(c.String("output")); err != nil {
		err = usageErrorf("--output: %v", err)
		return
	}
	if c.String("resume") != "" {
		if _, serr := os.Stat(c.String("resume")); serr != nil {
			err = usageErrorf("--resume: %v", serr)
			return
		}
	} else if c.String("results") == "" {
		err = usageErrorf("--results: give a file for the per-case records")
		return
	}
	if settings, err = evalSettings(c); err != nil {
		return
	}
	if base, err = evalContextParams(c); err != nil {
		return
	}
	if base.FlashAttn == llama.FlashAttnOff {
		err = usageErrorf("the evaluations compare QUOKA with dense flash attention: use -fa on or auto")
		return
	}
	base.FlashAttn = llama.FlashAttnOn
	return
}

// isInterrupted tells Ctrl-C apart from other errors.
func isInterrupted(err error) bool { return errors.Is(err, errInterrupted) }

// evalContextParams reads the context flags of the grid evaluations (whose chunk sizes and QUOKA
// settings are lists, see evalSettings).
func evalContextParams(c *cli.Context) (llama.ContextParams, error) {
	p := llama.ContextParams{NBatch: c.Int("batch-size"), Threads: c.Int("threads")}
	if p.NBatch <= 0 {
		return p, usageErrorf("--batch-size %d: must be positive", p.NBatch)
	}
	if p.Threads < 0 || c.Int("ctx-size") < 0 {
		return p, usageErrorf("--threads and --ctx-size must not be negative")
	}
	p.ThreadsBatch = p.Threads
	var err error
	if p.FlashAttn, err = llama.ParseFlashAttn(c.String("flash-attn")); err != nil {
		return p, usageErrorf("--flash-attn: %v", err)
	}
	if p.CacheType, err = llama.ParseCacheType(c.String("cache-type")); err != nil {
		return p, usageErrorf("--cache-type: %v", err)
	}
	return p, nil
}
