package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/quoka-llm/quoka/bindings/llama"
	"github.com/quoka-llm/quoka/cmd/quokarun/internal/benchfmt"
)

func benchCommand() *cli.Command {
	flags := []cli.Flag{
		modelFlag,
		&cli.StringFlag{Name: "n-prompt", Aliases: []string{"p"}, Value: "4096,8192,16384,32768", Usage: "prompt lengths in tokens, comma-separated"},
		&cli.IntFlag{Name: "repetitions", Aliases: []string{"r"}, Value: 3, Usage: "runs per setting and prompt length"},
		&cli.StringFlag{Name: "budgets", Value: "1024", Usage: "QUOKA settings to compare with dense: B_SA key counts or N% shares, comma-separated"},
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "md", Usage: "output format: md, csv or json"},
		&cli.StringFlag{Name: "plot", Usage: "also draw TTFT against prompt length into this PNG `FILE`"},
		&cli.StringFlag{Name: "file", Aliases: []string{"f"}, Usage: "build prompts from this text `FILE` (default: built-in text)"},
		&cli.StringFlag{Name: "quoka-chunk", Value: "0", Usage: "quoka+ selection sub-chunks, comma-separated, each combined with each budget (0: one selection per ubatch)"},
		&cli.StringFlag{Name: "quoka-sink", Value: "0", Usage: "quoka+ attention sinks (first positions always kept), comma-separated, each combined with each budget and sub-chunk"},
		&cli.StringFlag{Name: "parallel", Aliases: []string{"np"}, Value: "1", Usage: "prompts prefilled together in one unified KV cache (as llama-server's slots), comma-separated: `N,...`"},
	}
	for _, f := range contextFlags() {
		switch f.Names()[0] {
		case "ctx-size", "quoka", "quoka-budget", "quoka-chunk", "quoka-sink", "verbose":
			continue // the context fits the longest prompt; --budgets lists the QUOKA settings
		}
		flags = append(flags, f)
	}
	return &cli.Command{
		Name:      "bench",
		Usage:     "time to first token and prefill speed, dense vs QUOKA",
		UsageText: "quokarun bench -m MODEL [-p 4096,8192] [-r 3] [--budgets 1024,25%] [-ub 512] [-t N] [-o md|csv|json] [--plot FILE.png]",
		Description: "For every prompt length and repetition, the dense and the QUOKA runs are interleaved, each " +
			"from an empty KV cache: time to first token is the prefill of the prompt (in n_ubatch chunks) plus " +
			"the first greedy token. The table shows mean ± sample standard deviation over the repetitions and " +
			"the TTFT speedup over dense at the same length. Prompts are text tokenized by the model, repeated " +
			"to length; a warm-up run precedes the measurements.",
		Flags:        flags,
		OnUsageError: onUsageError,
		Action:       benchAction,
	}
}

// benchSetting is one column of the comparison: dense or a QUOKA budget.
type benchSetting struct {
	label string
	quoka llama.QuokaOptions
	seqs  int
	ctx   *llama.Session
}

// parseCountList parses "0,128" (counts, 0 allowed).
func parseCountList(s, flag string) ([]int, error) {
	return parseListMin(s, flag, 0, "a count (0 or more)")
}

// parseIntList parses "512,1024" (positive numbers).
func parseIntList(s, flag string) ([]int, error) {
	return parseListMin(s, flag, 1, "a positive number")
}

// parseListMin parses a comma-separated list of integers of at least lo.
func parseListMin(s, flag string, lo int, what string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < lo {
			return nil, usageErrorf("--%s: %q is not %s", flag, f, what)
		}
		out = append(out, n)
	}
	return out, nil
}

func benchAction(c *cli.Context) error {
	stdout, stderr := c.App.Writer, c.App.ErrWriter
	path, err := modelPath(c)
	if err != nil {
		return err
	}
	lengths, err := parseIntList(c.String("n-prompt"), "n-prompt")
	if err != nil {
		return err
	}
	parallel, err := parseIntList(c.String("parallel"), "parallel")
	if err != nil {
		return err
	}
	reps := c.Int("repetitions")
	if reps < 1 {
		return usageErrorf("--repetitions must be at least 1")
	}
	format := c.String("output")
	if err := benchfmt.CheckFormat(format); err != nil {
		return usageErrorf("--output: %v", err)
	}
	cp, err := contextParams(c)
	if err != nil {
		return err
	}
	if cp.FlashAttn == llama.FlashAttnOff {
		return usageErrorf("bench compares QUOKA with dense flash attention: use -fa on or auto")
	}
	cp.FlashAttn = llama.FlashAttnOn
	chunks, err := parseCountList(c.String("quoka-chunk"), "quoka-chunk")
	if err != nil {
		return err
	}
	sinks, err := parseCountList(c.String("quoka-sink"), "quoka-sink")
	if err != nil {
		return err
	}
	base := []*benchSetting{{label: "off"}}
	for _, b := range strings.Split(c.String("budgets"), ",") {
		b = strings.TrimSpace(b)
		n, frac, err := parseBudget(b)
		if err != nil {
			return usageErrorf("--budgets: %v", err)
		}
		for _, ch := range chunks {
			for _, sk := range sinks {
				q := cp.Quoka
				q.Enabled, q.Budget, q.BudgetFraction, q.Chunk, q.Sink = true, n, frac, ch, sk
				if err := q.Validate(); err != nil {
					return usageErrorf("--budgets: %v", err)
				}
				base = append(base, &benchSetting{label: benchLabel(b, q), quoka: q})
			}
		}
	}
	var settings []*benchSetting
	for _, np := range parallel {
		for _, s := range base {
			settings = append(settings, &benchSetting{label: s.label, quoka: s.quoka, seqs: np})
		}
	}
	text := benchText
	if f := c.String("file"); f != "" {
		data, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("prompt file: %w", err)
		}
		text = string(data)
	}

	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt)
	defer stop()
	m, err := loadModel(ctx, c, path, stderr)
	if err != nil {
		return err
	}
	defer m.Free()

	maxLen := 0
	for _, n := range lengths {
		maxLen = max(maxLen, n)
	}
	prompt, err := benchPrompt(m, text, maxLen)
	if err != nil {
		return err
	}
	for _, s := range settings {
		p := cp
		p.Quoka = s.quoka
		p.NCtx = s.seqs*maxLen + 16
		p.Sequences, p.KVUnified = s.seqs, s.seqs > 1
		if s.ctx, err = llama.NewContext(m, p); err != nil {
			return err
		}
		defer s.ctx.Free()
		noteQuokaOff(stderr, s.ctx, p)
	}
	info, _ := os.Stat(path)
	var size int64
	if info != nil {
		size = info.Size()
	}
	threads := settings[0].ctx.Params().ThreadsBatch
	ub := settings[0].ctx.Params().NUBatch

	// warm-up: one short prefill per context
	for _, s := range settings {
		if _, _, err := ttftN(ctx, s.ctx, prompt[:min(len(prompt), 2*ub)], s.seqs); err != nil {
			return benchErr(ctx, c, err)
		}
	}

	rows := make(map[string]*benchfmt.Row)
	var order []string
	bar := newBar(stderr, len(lengths)*reps*len(settings), "bench")
	for _, n := range lengths {
		for r := 0; r < reps; r++ {
			for _, s := range settings {
				key := fmt.Sprintf("%d/%d/%s", n, s.seqs, s.label)
				row, ok := rows[key]
				if !ok {
					row = &benchfmt.Row{Model: m.Desc(), SizeMiB: float64(size) / (1 << 20), Params: m.NParams(),
						Threads: threads, UBatch: ub, Quoka: s.label, Prompt: n, Seqs: s.seqs}
					rows[key] = row
					order = append(order, key)
				}
				t, pre, err := ttftN(ctx, s.ctx, prompt[:n], s.seqs)
				if err != nil {
					finishBar(bar)
					return benchErr(ctx, c, err)
				}
				row.Runs = append(row.Runs, benchfmt.Run{TTFTSeconds: t.Seconds(), PrefillSeconds: pre.Seconds()})
				if bar != nil {
					_ = bar.Add(1)
				}
			}
		}
	}
	finishBar(bar)
	out := make([]benchfmt.Row, 0, len(order))
	for _, k := range order {
		out = append(out, *rows[k])
	}
	benchfmt.Summarize(out)
	if err := benchfmt.Write(stdout, format, out); err != nil {
		return err
	}
	if p := c.String("plot"); p != "" {
		title := fmt.Sprintf("%s: time to first token, n_ubatch %d, %d threads", filepath.Base(path), ub, threads)
		if err := benchfmt.Plot(p, title, out); err != nil {
			return err
		}
	}
	return nil
}

func benchErr(ctx context.Context, c *cli.Context, err error) error {
	if ctx.Err() != nil && c.Context.Err() == nil {
		return errInterrupted
	}
	return err
}

// ttft prefills prompt from an empty cache and samples the first token greedily; it returns the time
// to first token and the prefill time.
func ttft(ctx context.Context, lc *llama.Session, prompt []llama.Token) (time.Duration, time.Duration, error) {
	lc.ClearKV()
	s, err := llama.NewSampler(llama.SamplerParams{})
	if err != nil {
		return 0, 0, err
	}
	defer s.Free()
	start := time.Now()
	if err := lc.Prefill(ctx, prompt, nil); err != nil {
		return 0, 0, err
	}
	pre := time.Since(start)
	if _, err := s.Sample(lc, -1); err != nil {
		return 0, 0, err
	}
	return time.Since(start), pre, nil
}

// ttftN is ttft for n sequences prefilled together, as llama-server's slots are: each ubatch
// holds the next n_ubatch/n tokens of every sequence (sequence i's prompt is the prompt rotated by
// i tokens after the first, so that the sequences differ); it returns the time until every
// sequence has its first token, and the prefill time.
func ttftN(ctx context.Context, lc *llama.Session, prompt []llama.Token, n int) (time.Duration, time.Duration, error) {
	if n <= 1 {
		return ttft(ctx, lc, prompt)
	}
	lc.ClearKV()
	seqs := make([][]llama.Token, n)
	for i := range seqs {
		s := append([]llama.Token{prompt[0]}, prompt[1+i:]...)
		seqs[i] = append(s, prompt[1:1+i]...)
	}
	step := max(1, lc.Params().NUBatch/n)
	b, err := llama.NewBatch(n*step, 1)
	if err != nil {
		return 0, 0, err
	}
	defer b.Free()
	smpl, err := llama.NewSampler(llama.SamplerParams{})
	if err != nil {
		return 0, 0, err
	}
	defer smpl.Free()
	start := time.Now()
	for p := 0; p < len(prompt); p += step {
		b.Clear()
		end := min(p+step, len(prompt))
		for i, s := range seqs {
			for q := p; q < end; q++ {
				if err := b.Add(s[q], q, q == len(prompt)-1, i); err != nil {
					return 0, 0, err
				}
			}
		}
		if err := lc.Decode(ctx, b); err != nil {
			return 0, 0, err
		}
	}
	pre := time.Since(start)
	for i := 0; i < n; i++ {
		if _, err := smpl.Sample(lc, i); err != nil {
			return 0, 0, err
		}
	}
	return time.Since(start), pre, nil
}

// benchPrompt tokenizes text and repeats it to n tokens, after the BOS token
// when the model wants one (a model without BOS has none to add).
func benchPrompt(m *llama.Model, text string, n int) ([]llama.Token, error) {
	toks, err := m.Tokenize(text, false, false)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, fmt.Errorf("prompt text tokenizes to nothing")
	}
	out := make([]llama.Token, 0, n)
	if bos := m.BOS(); m.AddBOS() && bos >= 0 {
		out = append(out, bos)
	}
	for len(out) < n {
		out = append(out, toks[:min(len(toks), n-len(out))]...)
	}
	return out, nil
}

// benchText is the built-in prompt text of `quokarun bench` (repeated to length).
const benchText = `The lighthouse keeper kept a log of every ship that passed the point. On calm nights he wrote
short notes: the name of the vessel, the hour, the direction of the wind, and the colour of the sky
before dawn. On stormy nights the notes grew longer, because there was more to watch and more to fear.
Over forty years the log filled eleven thick books, and the books told the history of the harbour
better than any official record: which captains were careful, which cargoes came in spring, which
families waited on the pier. When the light was finally automated, the keeper gave the books to the
town library, where children still read them to learn the names of the old ships and the winds.
`

// benchLabel is the quoka column of a QUOKA setting: the budget as given, then its sub-chunk
// (/cN), attention sinks (/sN) and the test switches that change what it measures (/inv for an
// inverted selection, /force).
func benchLabel(budget string, q llama.QuokaOptions) string {
	label := budget
	if q.Chunk > 0 {
		label += fmt.Sprintf("/c%d", q.Chunk)
	}
	if q.Sink > 0 {
		label += fmt.Sprintf("/s%d", q.Sink)
	}
	if q.Invert {
		label += "/inv"
	}
	if q.Force {
		label += "/force"
	}
	return label
}
