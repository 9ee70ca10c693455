package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/quoka-llm/quoka/bindings/llama"
	"github.com/quoka-llm/quoka/cmd/quokarun/internal/evalrun"
)

// Flags and settings shared by `eval niah`, `eval ruler` and `eval sweep`.

// evalRunFlags are the flags of the grid evaluations: the model, the QUOKA settings to compare
// with dense (lists), the results file, resume and the output format, and the context flags.
func evalRunFlags(results string, trials int) []cli.Flag {
	flags := []cli.Flag{
		modelFlag,
		&cli.StringFlag{Name: "lengths", Aliases: []string{"L"}, Value: "1k,2k,4k", Usage: "prompt lengths in tokens of the model's tokenizer, comma-separated (1k = 1024)"},
		&cli.IntFlag{Name: "trials", Value: trials, Usage: "cases per grid cell"},
		&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "seed of the generated cases"},
		&cli.StringFlag{Name: "quoka-budget", Value: "12.5%", Usage: "QUOKA settings compared with dense: B_SA as `N` keys or N% of the visible past, comma-separated"},
		&cli.StringFlag{Name: "quoka-queries", Value: "16", Usage: "N_Q values, comma-separated (each combined with each budget)"},
		&cli.StringFlag{Name: "quoka-chunk", Value: "0", Usage: "quoka+ selection sub-chunks, comma-separated (0: one selection per ubatch; each combined with each budget and N_Q)"},
		&cli.StringFlag{Name: "ubatch-size", Aliases: []string{"ub"}, Value: "512", Usage: "prefill chunk sizes (n_ubatch, B_CP), comma-separated"},
		&cli.BoolFlag{Name: "no-dense", Usage: "skip the dense baseline"},
		&cli.StringFlag{Name: "haystack", Usage: "haystack text `FILE`, cut at sentence boundaries (default: a built-in generated text)"},
		&cli.BoolFlag{Name: "chat", Usage: "wrap each prompt in the model's chat template (a user turn)"},
		&cli.StringFlag{Name: "results", Value: results, Usage: "JSONL `FILE` receiving every case as it finishes (overwritten unless --resume names it)"},
		&cli.StringFlag{Name: "resume", Usage: "continue the run recorded in this JSONL `FILE` (it receives the new cases); finished cases are not redone"},
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "md", Usage: "summary format: md, csv or json"},
		&cli.BoolFlag{Name: "check-sparse", Usage: "record per case how many prefill chunks took the QUOKA path (captures the selection of the first layer on the QUOKA path; slower)"},
	}
	for _, f := range contextFlags() {
		switch f.Names()[0] {
		case "quoka", "quoka-budget", "quoka-queries", "quoka-chunk", "ubatch-size":
			continue // lists above
		case "ctx-size":
			f = &cli.IntFlag{Name: "ctx-size", Aliases: []string{"c"}, Usage: "context window; 0: the longest prompt plus the tokens to generate"}
		}
		flags = append(flags, f)
	}
	return flags
}

// parseLengths parses "1k,2k,4096" (k = 1024).
func parseLengths(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(strings.ToLower(f))
		mul := 1
		if v, ok := strings.CutSuffix(f, "k"); ok {
			f, mul = v, 1024
		}
		x, err := strconv.ParseFloat(f, 64)
		n := int(math.Round(x * float64(mul)))
		if err != nil || n < 16 || x*float64(mul) != float64(n) {
			return nil, usageErrorf("--lengths: %q is not a length in tokens (at least 16; e.g. 512, 1k, 1.5k)", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// parseDepths parses "0,25,50" (percent).
func parseDepths(s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		d, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(f), "%"), 64)
		if err != nil || d < 0 || d > 100 {
			return nil, usageErrorf("--depths: %q is not a depth in percent (0..100)", f)
		}
		out = append(out, d)
	}
	return out, nil
}

// evalSetting is one column of an evaluation: dense or a QUOKA setting at a chunk size.
type evalSetting struct {
	evalrun.Setting
	quoka llama.QuokaOptions
}

// evalSettings reads the list flags into the settings: per chunk size, dense (unless --no-dense)
// and every budget x N_Q combination. The single-valued --quoka-* switches apply to every QUOKA
// setting and are named in it (so that a resumed file never mixes runs with and without them).
func evalSettings(c *cli.Context) ([]evalSetting, error) {
	ubs, err := parseIntList(c.String("ubatch-size"), "ubatch-size")
	if err != nil {
		return nil, err
	}
	queries, err := parseIntList(c.String("quoka-queries"), "quoka-queries")
	if err != nil {
		return nil, err
	}
	chunks, err := parseCountList(c.String("quoka-chunk"), "quoka-chunk")
	if err != nil {
		return nil, err
	}
	var budgets []string
	if b := strings.TrimSpace(c.String("quoka-budget")); b != "" && b != "off" {
		budgets = strings.Split(b, ",")
	}
	base := llama.DefaultQuokaOptions()
	base.Decode = c.Bool("quoka-decode")
	base.Force = c.Bool("quoka-force")
	base.Invert = c.Bool("quoka-invert")
	if base.Sink = c.Int("quoka-sink"); base.Sink < 0 {
		return nil, usageErrorf("--quoka-sink %d: must not be negative", base.Sink)
	}
	if c.IsSet("quoka-min-kv") {
		if base.MinKV = c.Int("quoka-min-kv"); base.MinKV < 0 {
			return nil, usageErrorf("--quoka-min-kv %d: must not be negative", base.MinKV)
		}
	}
	var out []evalSetting
	for _, ub := range ubs {
		if !c.Bool("no-dense") {
			out = append(out, evalSetting{Setting: evalrun.Setting{Name: "dense", UBatch: ub}})
		}
		for _, b := range budgets {
			n, frac, err := parseBudget(b)
			if err != nil {
				return nil, usageErrorf("--quoka-budget: %v", err)
			}
			for _, nq := range queries {
				for _, ch := range chunks {
					q := base
					q.Enabled, q.Budget, q.BudgetFraction, q.Queries, q.Chunk = true, n, frac, nq, ch
					if err := q.Validate(); err != nil {
						return nil, usageErrorf("%v", err)
					}
					name := fmt.Sprintf("B_SA=%s N_Q=%d", strings.TrimSpace(b), nq) + q.Extras()
					out = append(out, evalSetting{Setting: evalrun.Setting{Name: name, UBatch: ub}, quoka: q})
				}
			}
		}
	}
	if len(out) == 0 {
		return nil, usageErrorf("nothing to compare: give --quoka-budget or drop --no-dense")
	}
	return out, nil
}

func plainSettings(s []evalSetting) []evalrun.Setting {
	out := make([]evalrun.Setting, len(s))
	for i, x := range s {
		out[i] = x.Setting
	}
	return out
}
