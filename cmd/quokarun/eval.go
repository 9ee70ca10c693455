package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/quoka-llm/quoka/bindings/llama"
	"github.com/quoka-llm/quoka/cmd/quokarun/internal/evalstats"
)

func evalCommand() *cli.Command {
	return &cli.Command{
		Name:  "eval",
		Usage: "measure QUOKA's fidelity to dense attention",
		Subcommands: []*cli.Command{
			evalKLDCommand(),
			evalNIAHCommand(),
			evalRulerCommand(),
			evalSweepCommand(),
		},
		HideHelpCommand: true,
	}
}

func evalKLDCommand() *cli.Command {
	flags := []cli.Flag{
		modelFlag,
		&cli.StringFlag{Name: "file", Aliases: []string{"f"}, Usage: "text `FILE` to evaluate on (required)"},
		&cli.IntFlag{Name: "chunks", Value: 4, Usage: "evaluate the first `W` windows; 0: all"},
		&cli.BoolFlag{Name: "json", Usage: "print the results as JSON on stdout"},
		&cli.IntFlag{Name: "from", Usage: "pool the positions p >= `P` (default: n_ubatch; settle on one P to compare chunk sizes over the same positions)"},
	}
	for _, f := range contextFlags() {
		if f.Names()[0] == "ctx-size" {
			f = &cli.IntFlag{Name: "ctx-size", Aliases: []string{"c"}, Value: 2048, Usage: "window length N in tokens (BOS included)"}
		}
		flags = append(flags, f)
	}
	return &cli.Command{
		Name:      "kld",
		Usage:     "KL divergence of QUOKA's next-token distributions from dense ones",
		UsageText: "quokarun eval kld -m MODEL -f TEXT [-c N] [--chunks W] [-ub B] [--quoka-budget N|P%] [options]",
		Description: "The text is tokenized once. Window w is [BOS] followed by the next N-1 tokens " +
			"(consecutive, non-overlapping), or the next N tokens for a model that adds no BOS. Each window is prefilled from an empty cache in ubatches of B, " +
			"once with dense attention and once with QUOKA (flash attention on in both). Statistics are " +
			"pooled over the positions p >= B (or --from P) of every window (the first chunk is dense in both): mean " +
			"KL(P_dense || P_quoka) of the next-token distributions, its 99th percentile, top-1 agreement " +
			"and the perplexity of both on the next token. QUOKA is on with its defaults (B_SA 1024, N_Q 16) " +
			"unless --quoka-* flags say otherwise.",
		Flags:        flags,
		OnUsageError: onUsageError,
		Action:       evalKLDAction,
	}
}

// kldReport is what `eval kld` measured.
type kldReport struct {
	Model   string             `json:"model"`
	Text    string             `json:"text"`
	Window  int                `json:"window"`
	Windows int                `json:"windows"`
	UBatch  int                `json:"n_ubatch"`
	From    int                `json:"from"`    // positions p >= From pooled
	KVFrac  float64            `json:"kv_frac"` // keys attended by QUOKA / by dense, over the pooled positions
	Quoka   string             `json:"quoka"`
	Cache   string             `json:"cache_type"`
	Sparse  int                `json:"quoka_ubatches"` // ubatches that ran QUOKA sparse attention
	Pooled  evalstats.Result   `json:"pooled"`
	PerWin  []evalstats.Result `json:"per_window"`
}

func evalKLDAction(c *cli.Context) error {
	stdout, stderr := c.App.Writer, c.App.ErrWriter
	path, err := modelPath(c)
	if err != nil {
		return err
	}
	if c.String("file") == "" {
		return usageErrorf("no text: give one with -f FILE")
	}
	cp, err := contextParams(c)
	if err != nil {
		return err
	}
	n, w := cp.NCtx, c.Int("chunks")
	if n < 2 || w < 0 {
		return usageErrorf("--ctx-size must be at least 2 and --chunks not negative")
	}
	if from := c.Int("from"); c.IsSet("from") && (from < 0 || from >= n) {
		return usageErrorf("--from %d: must be in [0, %d)", from, n)
	}
	cp.Quoka.Enabled = true
	if cp.FlashAttn == llama.FlashAttnOff {
		return usageErrorf("eval kld compares QUOKA with dense flash attention: use -fa on or auto")
	}
	cp.FlashAttn = llama.FlashAttnOn
	cp.NBatch = n
	if cp.NUBatch > n {
		cp.NUBatch = n
	}
	text, err := os.ReadFile(c.String("file"))
	if err != nil {
		return fmt.Errorf("text file: %w", err)
	}

	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt)
	defer stop()
	m, err := loadModel(ctx, c, path, stderr)
	if err != nil {
		return err
	}
	defer m.Free()
	toks, err := m.Tokenize(string(text), true, false)
	if err != nil {
		return err
	}
	bos, err := addsBOS(m)
	if err != nil {
		return err
	}
	prefix := toks[:0]
	if bos {
		prefix = toks[:1] // the BOS the tokenizer added
	}
	body := toks[len(prefix):]
	step := n - len(prefix)
	if len(body) < step {
		return fmt.Errorf("text has %d tokens, fewer than one window of %d", len(toks), n)
	}
	avail := len(body) / step
	if w == 0 || w > avail {
		w = avail
	}

	dense := cp
	dense.Quoka = llama.QuokaOptions{}
	ld, err := llama.NewContext(m, dense)
	if err != nil {
		return err
	}
	defer ld.Free()
	lq, err := llama.NewContext(m, cp)
	if err != nil {
		return err
	}
	defer lq.Free()
	noteQuokaOff(stderr, lq, cp)

	rep := kldReport{Model: filepath.Base(path), Text: filepath.Base(c.String("file")), Window: n, Windows: w,
		UBatch: lq.Params().NUBatch, Quoka: cp.Quoka.String(), Cache: string(cp.CacheType)}
	rep.From = rep.UBatch
	if c.IsSet("from") {
		rep.From = c.Int("from")
	}
	b, err := llama.NewBatch(n, 1)
	if err != nil {
		return err
	}
	defer b.Free()
	var pooled evalstats.KLD
	bar := newBar(stderr, w, "eval kld")
	for i := 0; i < w; i++ {
		win := append(append([]llama.Token(nil), prefix...), body[i*step:(i+1)*step]...)
		var one evalstats.KLD
		if err := kldWindow(ctx, ld, lq, b, win, rep.From, &pooled, &one); err != nil {
			finishBar(bar)
			if ctx.Err() != nil && c.Context.Err() == nil {
				return errInterrupted
			}
			return fmt.Errorf("window %d: %w", i, err)
		}
		rep.PerWin = append(rep.PerWin, one.Result())
		if bar != nil {
			_ = bar.Add(1)
		}
	}
	finishBar(bar)
	rep.Pooled = pooled.Result()
	rep.KVFrac = kvFraction(rep.From, n, rep.UBatch, cp.Quoka)
	rep.Sparse = lq.QuokaUbatches()
	if c.Bool("json") {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printKLD(stdout, rep)
	return nil
}

// kldWindow prefills one window (through b, a batch of at least its length) from empty caches in
// both contexts, with the logits of every position >= from, then pools the positions into the
// accumulators one at a time: only one position's logits per context are copied out at once.
func kldWindow(ctx context.Context, ld, lq *llama.Session, b *llama.Batch, win []llama.Token, from int,
	acc ...*evalstats.KLD) error {
	b.Clear()
	for p, t := range win {
		if err := b.Add(t, p, p >= from); err != nil {
			return err
		}
	}
	for _, lc := range []*llama.Session{ld, lq} {
		lc.ClearKV()
		if err := lc.Decode(ctx, b); err != nil {
			return err
		}
	}
	for i, p := 0, from; p < len(win); i, p = i+1, p+1 {
		next := -1
		if p+1 < len(win) {
			next = int(win[p+1])
		}
		base, test := ld.Logits(i), lq.Logits(i)
		for _, a := range acc {
			if err := a.Add(base, test, next); err != nil {
				return err
			}
		}
	}
	return nil
}

// kvFraction is the share of the dense attention's key-query pairs that QUOKA attends to over the
// positions [from, n) of a window prefilled in ubatches of ub: a query at position p of a ubatch
// starting at s attends to p+1 keys densely, and to B_SA + (p - s + 1) keys when the ubatch is
// sparse (its past s exceeds B_SA and min_kv, as llama.cpp decides). Sub-chunks change which keys
// are kept, not how many.
func kvFraction(from, n, ub int, q llama.QuokaOptions) float64 {
	var sparse, dense float64
	for p := from; p < n; p++ {
		s := p / ub * ub
		keep := q.Budget
		if keep == 0 {
			keep = int(math.Ceil(q.BudgetFraction * float64(s)))
		}
		k := p + 1
		if (q.Force && s >= 1) || (keep >= 1 && s > keep && s > q.MinKV) {
			k = min(k, max(keep, 1)+p-s+1)
		}
		sparse += float64(k)
		dense += float64(p + 1)
	}
	if dense == 0 {
		return 1
	}
	return sparse / dense
}

// addsBOS reports whether the model's tokenizer starts a text with BOS (llama.cpp's add_bos):
// tokenizing with special tokens then gives one token more than without, and the first is BOS.
func addsBOS(m *llama.Model) (bool, error) {
	with, err := m.Tokenize("a", true, false)
	if err != nil {
		return false, err
	}
	without, err := m.Tokenize("a", false, false)
	if err != nil {
		return false, err
	}
	return m.BOS() >= 0 && len(with) > len(without) && with[0] == m.BOS(), nil
}

func printKLD(w io.Writer, r kldReport) {
	fmt.Fprintf(w, "model %s, text %s: %d windows of %d tokens, n_ubatch %d, QUOKA %s, KV cache %s\n",
		r.Model, r.Text, r.Windows, r.Window, r.UBatch, r.Quoka, r.Cache)
	fmt.Fprintf(w, "positions p >= %d pooled: %d; QUOKA sparse ubatches: %d; keys attended: %.1f%% of dense\n\n",
		r.From, r.Pooled.Positions, r.Sparse, 100*r.KVFrac)
	fmt.Fprintf(w, "| window | mean KL | p99 KL | top-1 | PPL dense | PPL quoka |\n")
	fmt.Fprintf(w, "|-------:|--------:|-------:|------:|----------:|----------:|\n")
	row := func(name string, s evalstats.Result) {
		fmt.Fprintf(w, "| %6s | %7.4f | %6.3f | %4.1f%% | %9.3f | %9.3f |\n",
			name, s.MeanKL, s.P99KL, 100*s.Top1, s.PPLBase, s.PPLTest)
	}
	for i, s := range r.PerWin {
		row(fmt.Sprint(i), s)
	}
	row("all", r.Pooled)
	fmt.Fprintf(w, "\nmean KL %.4f ± %.4f, median %.4f, max %.3f\n", r.Pooled.MeanKL, r.Pooled.MeanKLErr,
		r.Pooled.MedianKL, r.Pooled.MaxKL)
}
