package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/quoka-llm/quoka/models"
)

func synthCommand() *cli.Command {
	return &cli.Command{
		Name:      "synth",
		Usage:     "write a synthetic random-weight model for benchmarks",
		UsageText: "quokarun synth -o FILE --preset NAME [--seed N]",
		Description: "Writes a llama-architecture GGUF model with deterministic random weights in the " +
			"shapes of a preset. It loads and runs like a real model but produces noise: use it only " +
			"to measure speed and memory.\n\nPresets:\n" + presetTable(),
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the model to `FILE` (required)"},
			&cli.StringFlag{Name: "preset", Usage: "model shape `NAME` (required, see above)"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "random seed: the same preset and seed give the same file"},
		},
		OnUsageError: onUsageError,
		Action: func(c *cli.Context) error {
			out := c.String("output")
			if out == "" {
				return usageErrorf("no output file: give one with -o FILE")
			}
			if !c.IsSet("preset") {
				return usageErrorf("no preset: give one with --preset NAME (%s)", presetNames())
			}
			p, err := models.LookupPreset(c.String("preset"))
			if err != nil {
				return usageErrorf("%s", strings.TrimPrefix(err.Error(), "models: "))
			}
			fmt.Fprintln(c.App.ErrWriter, models.SyntheticWarning)
			if err := models.Synth(out, p, c.Uint64("seed")); err != nil {
				return err
			}
			size := int64(0)
			if fi, err := os.Stat(out); err == nil {
				size = fi.Size()
			}
			fmt.Fprintf(c.App.Writer, "wrote %s (preset %s, %s)\n", out, p.Name, models.HumanBytes(size))
			return nil
		},
	}
}

func presetNames() string {
	var names []string
	for _, p := range models.Presets() {
		names = append(names, p.Name)
	}
	return strings.Join(names, ", ")
}

// presetTable lists the presets for the help text.
func presetTable() string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, p := range models.Presets() {
		fmt.Fprintf(tw, "   %s\t%s\n", p.Name, p.Description)
	}
	tw.Flush()
	return b.String()
}
