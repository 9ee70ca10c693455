package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/quoka-llm/quoka/bindings/llama"
	"github.com/quoka-llm/quoka/cmd/quokarun/internal/evalrun"
	"github.com/quoka-llm/quoka/cmd/quokarun/internal/evalstats"
)

func evalSweepCommand() *cli.Command {
	defaults := map[string]string{"quoka-budget": "128,256,512,12.5%", "quoka-queries": "8,16", "lengths": "2k", "depths": "0,50,100"}
	var flags []cli.Flag
	for _, f := range append(evalRunFlags("eval-sweep.jsonl", 2), niahFlags()...) {
		if sf, ok := f.(*cli.StringFlag); ok {
			if v, ok := defaults[sf.Name]; ok {
				cp := *sf
				cp.Value = v
				f = &cp
			}
		}
		flags = append(flags, f)
	}
	flags = append(flags,
		&cli.StringFlag{Name: "file", Aliases: []string{"f"}, Usage: "also measure KL divergence and top-1 agreement (as eval kld) on this text `FILE`"},
		&cli.IntFlag{Name: "kld-ctx", Usage: "KL window length; 0: the longest of --lengths"},
		&cli.IntFlag{Name: "chunks", Value: 1, Usage: "KL windows per setting"},
		&cli.StringFlag{Name: "plot", Usage: "draw the Pareto plot (TTFT speedup vs NIAH accuracy) into this PNG `FILE`"},
	)
	return &cli.Command{
		Name:  "sweep",
		Usage: "accuracy (NIAH, KL/top-1) and TTFT across B_SA, N_Q and chunk sizes: one table, a Pareto plot",
		UsageText: "quokarun eval sweep -m MODEL [--quoka-budget 128,256,12.5%] [--quoka-queries 8,16] [-ub 256,512] " +
			"[--lengths 2k] [-f TEXT] [--plot pareto.png]",
		Description: "Runs the NIAH grid (see eval niah) for every setting (budget x N_Q per chunk size, and dense per " +
			"chunk size); TTFT is the mean over those cases of prefill + first token, the speedup is against dense at " +
			"the same chunk size. With -f, every QUOKA setting is also compared with dense on --chunks windows of the " +
			"text as in eval kld (mean KL, top-1 agreement; not resumed). One row per setting; the Pareto plot puts " +
			"NIAH accuracy against TTFT speedup.",
		Flags:        flags,
		OnUsageError: onUsageError,
		Action:       evalSweepAction,
	}
}

// sweepRow is one setting of a sweep.
type sweepRow struct {
	evalrun.Setting
	Cases    int     `json:"cases"`
	Accuracy float64 `json:"niah_accuracy"`
	TTFTMS   float64 `json:"ttft_ms"`
	Speedup  float64 `json:"speedup"`
	// KL statistics against dense at the same chunk size (absent without -f).
	KL *evalstats.Result `json:"kld,omitempty"`
}

func evalSweepAction(c *cli.Context) error {
	stdout, stderr := c.App.Writer, c.App.ErrWriter
	if c.Bool("no-dense") {
		return usageErrorf("eval sweep measures speedups against dense: drop --no-dense")
	}
	path, lengths, settings, base, err := evalCommon(c)
	if err != nil {
		return err
	}
	cfg, depths, mode, err := niahSetup(c)
	if err != nil {
		return err
	}
	var text []byte
	if f := c.String("file"); f != "" {
		if text, err = os.ReadFile(f); err != nil {
			return fmt.Errorf("text file: %w", err)
		}
	}
	kldN := c.Int("kld-ctx")
	if kldN == 0 {
		kldN = maxOf(lengths)
	}
	if kldN < 2 || kldN > maxOf(lengths) || c.Int("chunks") < 1 {
		return usageErrorf("--kld-ctx must be in [2, the longest length] and --chunks at least 1")
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt)
	defer stop()
	m, r, err := openEval(ctx, c, path, stderr, base, settings, lengths, c.Int("n-predict"))
	if err != nil {
		return err
	}
	defer m.Free()
	defer r.free()
	cases, err := niahCases(r, cfg, lengths, depths, c.Int("trials"), mode, c.Int("n-predict"))
	if err != nil {
		return err
	}
	recs, err := r.run(ctx, c, "eval sweep", cases)
	if err != nil {
		return err
	}
	rows := sweepRows(recs, settings)
	if text != nil {
		if err := sweepKLD(ctx, c, r, string(text), kldN, rows); err != nil {
			return err
		}
	}
	if err := sweepTable(rows).Write(stdout, c.String("output")); err != nil {
		return err
	}
	if p := c.String("plot"); p != "" {
		var pts []evalrun.ParetoPoint
		for _, row := range rows {
			pts = append(pts, evalrun.ParetoPoint{Label: row.Label(), Speedup: row.Speedup, Accuracy: row.Accuracy, Dense: row.Name == "dense"})
		}
		title := fmt.Sprintf("%s: NIAH accuracy vs TTFT speedup, %s tokens", filepath.Base(path), c.String("lengths"))
		return evalrun.ParetoPNG(p, title, "NIAH accuracy (%)", pts)
	}
	return nil
}

// sweepRows summarises the records per setting: NIAH accuracy, mean TTFT and the speedup over
// dense at the same chunk size.
func sweepRows(recs []evalrun.Record, settings []evalSetting) []sweepRow {
	rows := make([]sweepRow, len(settings))
	dense := map[int]float64{}
	for i, s := range settings {
		row := sweepRow{Setting: s.Setting}
		correct := 0
		for _, r := range recs {
			if s.Is(r) {
				row.Cases++
				row.TTFTMS += r.TTFTMS
				if r.Correct {
					correct++
				}
			}
		}
		if row.Cases > 0 {
			row.TTFTMS /= float64(row.Cases)
			row.Accuracy = float64(correct) / float64(row.Cases)
		}
		if s.Name == "dense" {
			dense[s.UBatch] = row.TTFTMS
		}
		rows[i] = row
	}
	for i := range rows {
		if d := dense[rows[i].UBatch]; d > 0 && rows[i].TTFTMS > 0 {
			rows[i].Speedup = d / rows[i].TTFTMS
		}
	}
	return rows
}

// sweepKLD compares every QUOKA setting with dense at its chunk size on windows of text.
func sweepKLD(ctx context.Context, c *cli.Context, r *evalRunner, text string, n int, rows []sweepRow) error {
	toks, err := r.model.Tokenize(text, true, false)
	if err != nil {
		return err
	}
	bos, err := addsBOS(r.model)
	if err != nil {
		return err
	}
	prefix := toks[:0]
	if bos {
		prefix = toks[:1]
	}
	body, step := toks[len(prefix):], n-len(prefix)
	w := min(c.Int("chunks"), len(body)/step)
	if w < 1 {
		return fmt.Errorf("text has %d tokens, fewer than one window of %d", len(toks), n)
	}
	denseCtx := map[int]*llama.Session{}
	for i, s := range r.settings {
		if s.Name == "dense" {
			denseCtx[s.UBatch] = r.contexts[i]
		}
	}
	bar := newBar(r.stderr, w*len(rows), "eval sweep: KL")
	defer finishBar(bar)
	for i, s := range r.settings {
		if s.Name == "dense" {
			continue
		}
		b, err := llama.NewBatch(n, 1)
		if err != nil {
			return err
		}
		var acc evalstats.KLD
		for k := 0; k < w; k++ {
			win := append(append([]llama.Token(nil), prefix...), body[k*step:(k+1)*step]...)
			if err := kldWindow(ctx, denseCtx[s.UBatch], r.contexts[i], b, win, s.UBatch, &acc); err != nil {
				b.Free()
				if ctx.Err() != nil && c.Context.Err() == nil {
					return errInterrupted
				}
				return err
			}
			if bar != nil {
				_ = bar.Add(1)
			}
		}
		b.Free()
		res := acc.Result()
		rows[i].KL = &res
	}
	return nil
}

func sweepTable(rows []sweepRow) evalrun.Table {
	t := evalrun.Table{Header: []string{"setting", "n_ubatch", "cases", "NIAH acc", "mean KL", "top-1", "ttft ms", "speedup"},
		Right: []bool{false, true, true, true, true, true, true, true}, Data: rows}
	for _, r := range rows {
		kl, top1 := "", ""
		if r.KL != nil {
			kl, top1 = fmt.Sprintf("%.4f", r.KL.MeanKL), fmt.Sprintf("%.1f%%", 100*r.KL.Top1)
		}
		sp := ""
		if r.Speedup > 0 {
			sp = fmt.Sprintf("%.2fx", r.Speedup)
		}
		t.Rows = append(t.Rows, []string{r.Name, fmt.Sprint(r.UBatch), fmt.Sprint(r.Cases),
			fmt.Sprintf("%.1f%%", 100*r.Accuracy), kl, top1, fmt.Sprintf("%.1f", r.TTFTMS), sp})
	}
	return t
}
