package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/quoka-llm/quoka/bindings/llama"
	"github.com/quoka-llm/quoka/cmd/quokarun/internal/evalrun"
	"github.com/quoka-llm/quoka/cmd/quokarun/internal/niah"
	"github.com/quoka-llm/quoka/cmd/quokarun/internal/prompt"
)

// niahFlags are the needle-in-a-haystack flags of `eval niah` and `eval sweep`.
func niahFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "depths", Value: "0,25,50,75,100", Usage: "needle depths in percent of the haystack, comma-separated"},
		&cli.StringFlag{Name: "needle", Value: niah.DefaultNeedle, Usage: "needle template; {answer} is replaced by the number"},
		&cli.StringFlag{Name: "question", Value: niah.DefaultQuestion, Usage: "question ending the prompt (the answer follows it)"},
		&cli.IntFlag{Name: "digits", Value: 5, Usage: "digits of the answer (distinct up to 10)"},
		&cli.StringFlag{Name: "match", Value: "prefix", Usage: "correct when the answer `RULE`: prefix (the continuation starts with it) or substring (anywhere, ignoring case: RULER's rule)"},
		&cli.IntFlag{Name: "n-predict", Aliases: []string{"n"}, Value: 8, Usage: "tokens to generate (greedy) per case"},
	}
}

func evalNIAHCommand() *cli.Command {
	return &cli.Command{
		Name:  "niah",
		Usage: "needle-in-a-haystack grid: length x depth, dense vs QUOKA, table + heatmaps",
		UsageText: "quokarun eval niah -m MODEL [--lengths 1k,2k,4k] [--depths 0,25,50,75,100] [--trials 5] " +
			"[--quoka-budget 256,12.5%] [-ub 512] [--haystack FILE] [--plot niah.png] [--results FILE.jsonl | --resume FILE.jsonl]",
		Description: "Every cell of the grid (prompt length in tokens x needle depth) gets --trials cases: a needle " +
			"holding a random number placed at the depth of a haystack (--haystack text cut at sentence boundaries, " +
			"or a built-in generated text), the question at the end, the whole fitted to the length (at most the length, " +
			"short of it by less than a sentence). The same cases run densely and under every QUOKA setting " +
			"(--quoka-budget x --quoka-queries, per -ub chunk size), each from an empty cache, with a greedy answer. " +
			"Every case is appended to --results as it finishes (Ctrl-C keeps them; --resume continues). The defaults " +
			"reproduce the passkey format of the project's shared test data. Decode stays dense unless --quoka-decode, " +
			"and the answer comes from decode steps that see the whole cache: --quoka-decode (with --quoka-invert as a " +
			"negative control) is what tests the selection itself.",
		Flags:        append(evalRunFlags("eval-niah.jsonl", 5), append(niahFlags(), &cli.StringFlag{Name: "plot", Usage: "draw the heatmaps into this PNG `FILE`"})...),
		OnUsageError: onUsageError,
		Action:       evalNIAHAction,
	}
}

// niahSetup checks the NIAH flags and returns the case config (without its filler and format).
func niahSetup(c *cli.Context) (niah.Config, []float64, niah.MatchMode, error) {
	depths, err := parseDepths(c.String("depths"))
	if err != nil {
		return niah.Config{}, nil, "", err
	}
	mode, err := niah.ParseMatchMode(c.String("match"))
	if err != nil {
		return niah.Config{}, nil, "", usageErrorf("--match: %v", err)
	}
	if c.Int("n-predict") < 1 {
		return niah.Config{}, nil, "", usageErrorf("--n-predict must be at least 1")
	}
	cfg := niah.Config{Needle: c.String("needle"), Question: c.String("question"), Digits: c.Int("digits"),
		Filler: prompt.Generated{}, Seed: c.Uint64("seed")}
	if err := cfg.Validate(); err != nil {
		return niah.Config{}, nil, "", usageErrorf("%v", err)
	}
	hay, err := readHaystack(c)
	if err != nil {
		return niah.Config{}, nil, "", err
	}
	if hay != nil {
		cfg.Filler = hay
	}
	return cfg, depths, mode, nil
}

// openEval loads the model of an eval command and makes its runner, with a context for the
// longest length plus maxTokens answer tokens. The caller frees the runner, then the model.
func openEval(ctx context.Context, c *cli.Context, path string, stderr io.Writer, base llama.ContextParams,
	settings []evalSetting, lengths []int, maxTokens int) (*llama.Model, *evalRunner, error) {
	m, err := loadEvalModel(ctx, c, path, stderr)
	if err != nil {
		return nil, nil, err
	}
	nCtx, err := evalContextSize(c, m, maxOf(lengths), maxTokens)
	if err == nil {
		var r *evalRunner
		if r, err = newEvalRunner(c, m, base, settings, nCtx); err == nil {
			return m, r, nil
		}
	}
	m.Free()
	return nil, nil, err
}

// loadEvalModel loads the model of an eval command; --chat needs a chat template.
func loadEvalModel(ctx context.Context, c *cli.Context, path string, stderr io.Writer) (*llama.Model, error) {
	m, err := loadModel(ctx, c, path, stderr)
	if err != nil {
		return nil, err
	}
	if c.Bool("chat") && m.ChatTemplate() == "" {
		m.Free()
		return nil, usageErrorf("--chat: the model has no chat template")
	}
	return m, nil
}

// niahCases builds the grid's cases with the model's tokenizer.
func niahCases(r *evalRunner, cfg niah.Config, lengths []int, depths []float64, trials int, mode niah.MatchMode, nPredict int) ([]evalCase, error) {
	cfg.Format = r.format(" ")
	tok := r.tokenizer()
	var out []evalCase
	for _, l := range lengths {
		for _, d := range depths {
			for t := 0; t < trials; t++ {
				nc, err := niah.Build(cfg, tok, l, d, t)
				if err != nil {
					return nil, err
				}
				depth := d
				answer := nc.Answer
				out = append(out, evalCase{
					rec: evalrun.Record{ID: nc.ID, Task: "niah", Length: l, Depth: &depth, Trial: t, Tokens: nc.Tokens,
						Answers: []string{answer}},
					prompt: nc.Prompt, maxTokens: nPredict,
					score: func(o string) (float64, bool) {
						ok := niah.Correct(mode, o, answer)
						if ok {
							return 1, true
						}
						return 0, false
					},
				})
			}
		}
	}
	return out, nil
}

func evalNIAHAction(c *cli.Context) error {
	stdout, stderr := c.App.Writer, c.App.ErrWriter
	path, lengths, settings, base, err := evalCommon(c)
	if err != nil {
		return err
	}
	cfg, depths, mode, err := niahSetup(c)
	if err != nil {
		return err
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
	recs, runErr := r.run(ctx, c, "eval niah", cases)
	if runErr != nil && !isInterrupted(runErr) {
		return runErr
	}
	cells := evalrun.SummarizeNIAH(recs, plainSettings(settings), lengths, depths)
	if err := evalrun.NIAHTable(cells, depths).Write(stdout, c.String("output")); err != nil {
		return err
	}
	if p := c.String("plot"); p != "" {
		title := fmt.Sprintf("%s: needle in a haystack, %d trials per cell", filepath.Base(path), c.Int("trials"))
		if err := evalrun.HeatmapPNG(p, title, cells, plainSettings(settings), lengths, depths); err != nil {
			return err
		}
	}
	return runErr
}

func maxOf(xs []int) int {
	m := 0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}
