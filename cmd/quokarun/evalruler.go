package main

import (
	"os"
	"os/signal"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/quoka-llm/quoka/cmd/quokarun/internal/evalrun"
	"github.com/quoka-llm/quoka/cmd/quokarun/internal/ruler"
)

func evalRulerCommand() *cli.Command {
	flags := append(evalRunFlags("eval-ruler.jsonl", 3),
		&cli.StringFlag{Name: "tasks", Value: strings.Join(ruler.Tasks, ","), Usage: "RULER tasks, comma-separated"},
		&cli.IntFlag{Name: "n-predict", Aliases: []string{"n"}, Usage: "tokens to generate per case; 0: RULER's per task (niah 128, vt 30, cwe 120, fwe 50)"},
	)
	return &cli.Command{
		Name:  "ruler",
		Usage: "RULER's synthetic tasks (NIAH variants, variable tracking, common/frequent words), dense vs QUOKA",
		UsageText: "quokarun eval ruler -m MODEL [--tasks niah_single_1,vt,cwe] [--lengths 1k,2k,4k] [--trials 3] " +
			"[--quoka-budget 12.5%] [-ub 512] [--haystack ESSAYS.txt] [--results FILE.jsonl | --resume FILE.jsonl]",
		Description: "Generates RULER's tasks with RULER's parameters (niah_single_1/2/3, niah_multikey_1/2/3 with 4 keys, " +
			"niah_multivalue with 4 values, niah_multiquery with 4 queries, vt with 1 chain of 4 hops, cwe with 10 common " +
			"words x 30 among words x 3, fwe with Zipf alpha 2), fitted to each length in tokens; --haystack is the " +
			"\"essay\" haystack (default: the built-in generated text). Greedy answers are scored as RULER scores them: " +
			"the share of the references found in the output, ignoring case (string_match_all). The table has one row " +
			"per task and length, one column per setting, and the average over the tasks.",
		Flags:        flags,
		OnUsageError: onUsageError,
		Action:       evalRulerAction,
	}
}

func evalRulerAction(c *cli.Context) error {
	stdout, stderr := c.App.Writer, c.App.ErrWriter
	path, lengths, settings, base, err := evalCommon(c)
	if err != nil {
		return err
	}
	var tasks []string
	for _, t := range strings.Split(c.String("tasks"), ",") {
		t = strings.TrimSpace(t)
		if !ruler.Known(t) {
			return usageErrorf("--tasks: unknown task %q (%s)", t, strings.Join(ruler.Tasks, ", "))
		}
		tasks = append(tasks, t)
	}
	nPredict := c.Int("n-predict")
	if nPredict < 0 {
		return usageErrorf("--n-predict must not be negative")
	}
	hay, err := readHaystack(c)
	if err != nil {
		return err
	}
	cfg := ruler.Config{Seed: c.Uint64("seed")}
	if hay != nil {
		cfg.Essay = hay
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt)
	defer stop()
	maxTokens := nPredict
	if maxTokens == 0 {
		maxTokens = 128 // the longest of RULER's
	}
	m, r, err := openEval(ctx, c, path, stderr, base, settings, lengths, maxTokens)
	if err != nil {
		return err
	}
	defer m.Free()
	defer r.free()
	cfg.Format = r.format("\n")
	tok := r.tokenizer()
	var cases []evalCase
	for _, task := range tasks {
		for _, l := range lengths {
			for t := 0; t < c.Int("trials"); t++ {
				rc, err := ruler.Build(cfg, tok, task, l, t)
				if err != nil {
					return err
				}
				n := rc.MaxTokens
				if nPredict > 0 {
					n = nPredict
				}
				refs := rc.Answers
				cases = append(cases, evalCase{
					rec:    evalrun.Record{ID: rc.ID, Task: task, Length: l, Trial: t, Tokens: rc.Tokens, Answers: refs},
					prompt: rc.Prompt, maxTokens: n,
					score: func(o string) (float64, bool) {
						s := ruler.MatchAll(o, refs)
						return s, s == 1
					},
				})
			}
		}
	}
	recs, runErr := r.run(ctx, c, "eval ruler", cases)
	if runErr != nil && !isInterrupted(runErr) {
		return runErr
	}
	scores := evalrun.SummarizeRuler(recs, plainSettings(settings), tasks, lengths)
	if err := evalrun.RulerTable(scores, plainSettings(settings), tasks, lengths).Write(stdout, c.String("output")); err != nil {
		return err
	}
	return runErr
}
