package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/quoka-llm/quoka/bindings/llama"
)

func runCommand() *cli.Command {
	flags := []cli.Flag{
		modelFlag,
		&cli.StringFlag{Name: "prompt", Aliases: []string{"p"}, Usage: "the prompt `TEXT`"},
		&cli.StringFlag{Name: "file", Aliases: []string{"f"}, Usage: "read the prompt from `FILE`"},
		&cli.BoolFlag{Name: "echo", Usage: "print the prompt before the completion"},
	}
	flags = append(flags, contextFlags()...)
	flags = append(flags, samplingFlags(128)...)
	return &cli.Command{
		Name:      "run",
		Usage:     "complete a prompt",
		UsageText: "quokarun run -m MODEL (-p PROMPT | -f FILE) [options]",
		Description: "Streams the completion of the prompt (BOS added) to stdout: only the completion, " +
			"unless --echo prints the prompt first. With --verbose, model, context and timing details " +
			"(prompt tokens, prefill time and speed, time to first token, decode speed) go to stderr. " +
			"Ctrl-C stops generation; quokarun then exits with status 130.",
		Flags:        flags,
		OnUsageError: onUsageError,
		Action:       runAction,
	}
}

func runAction(c *cli.Context) error {
	stdout, stderr := c.App.Writer, c.App.ErrWriter
	path, err := modelPath(c)
	if err != nil {
		return err
	}
	prompt, err := readPrompt(c)
	if err != nil {
		return err
	}
	cp, err := contextParams(c)
	if err != nil {
		return err
	}
	gen, err := generateOptions(c)
	if err != nil {
		return err
	}
	if err := llama.CheckQuoka(cp.Quoka); err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt)
	defer stop()
	m, err := loadModel(ctx, c, path, stderr)
	if err != nil {
		return err
	}
	defer m.Free()

	tokens, err := m.Tokenize(prompt, true, false)
	if err != nil {
		return err
	}
	cp.NCtx = fitContext(cp.NCtx, m.NCtxTrain(), len(tokens), gen.MaxTokens)
	lc, err := llama.NewContext(m, cp)
	if err != nil {
		return err
	}
	defer lc.Free()
	noteQuokaOff(c.App.ErrWriter, lc, cp)
	verbose := c.Bool("verbose")
	if verbose {
		printSetup(stderr, m, lc)
	}

	wrote := c.Bool("echo")
	if wrote {
		fmt.Fprint(stdout, prompt)
	}
	progress, clearBar := prefillProgress(stderr, len(tokens), lc.Params().NBatch)
	gen.PrefillProgress = func(done, total int) {
		if progress != nil {
			progress(done, total)
		}
		if done == total {
			clearBar()
		}
	}
	gen.OnToken = func(piece string) bool {
		wrote = true
		_, err := io.WriteString(stdout, piece)
		return err == nil // stop when stdout goes away
	}
	_, timings, err := lc.GenerateTokens(ctx, tokens, gen)
	clearBar()
	if wrote {
		fmt.Fprintln(stdout)
	}
	if verbose && timings.GeneratedTokens > 0 {
		printTimings(stderr, timings)
	}
	if ctx.Err() != nil && c.Context.Err() == nil {
		return errInterrupted
	}
	return err
}

// readPrompt returns the -p text or the contents of the -f file.
func readPrompt(c *cli.Context) (string, error) {
	switch {
	case c.IsSet("prompt") && c.IsSet("file"):
		return "", usageErrorf("give the prompt with -p or -f, not both")
	case c.IsSet("file"):
		data, err := os.ReadFile(c.String("file"))
		if err != nil {
			return "", fmt.Errorf("prompt file: %w", err)
		}
		return string(data), nil
	case c.IsSet("prompt"):
		return c.String("prompt"), nil
	}
	return "", usageErrorf("no prompt: give one with -p TEXT or -f FILE")
}

// loadModel loads the model with a progress bar on a terminal; Ctrl-C
// (ctx) aborts the load.
// With --rpc the layers go to the ggml-rpc servers given.
func loadModel(ctx context.Context, c *cli.Context, path string, stderr io.Writer) (*llama.Model, error) {
	var servers []string
	if c.IsSet("rpc") {
		for _, s := range strings.Split(c.String("rpc"), ",") {
			if s = strings.TrimSpace(s); s != "" {
				servers = append(servers, s)
			}
		}
		if len(servers) == 0 {
			return nil, usageErrorf("--rpc: no servers given (want host:port,...)")
		}
	}
	progress, clearBar := loadProgress(stderr, func() bool { return ctx.Err() == nil })
	m, err := llama.LoadModel(path, llama.ModelParams{GPULayers: c.Int("gpu-layers"), RPCServers: servers, Progress: progress})
	clearBar()
	if errors.Is(err, context.Canceled) {
		return nil, errInterrupted
	}
	return m, err
}

func printSetup(w io.Writer, m *llama.Model, lc *llama.Session) {
	p := lc.Params()
	fmt.Fprintf(w, "model:   %s (%s, %d layers, %d/%d heads, %d params)\n",
		filepath.Base(m.Path()), m.Desc(), m.NLayer(), m.NHead(), m.NHeadKV(), m.NParams())
	fmt.Fprintf(w, "context: n_ctx %d, n_batch %d, n_ubatch %d, threads %d/%d, flash-attn %s, quoka %s\n",
		p.NCtx, p.NBatch, p.NUBatch, p.Threads, p.ThreadsBatch, p.FlashAttn, p.Quoka)
}

func printTimings(w io.Writer, t llama.Timings) {
	fmt.Fprintf(w, "prompt tokens: %d\n", t.PromptTokens)
	fmt.Fprintf(w, "prefill:       %.2f ms (%.2f tokens/s, n_ubatch %d, quoka %s)\n",
		ms(t.PrefillDuration), t.PrefillTokensPerSecond(), t.NUBatch, t.Quoka)
	if t.Quoka.Enabled {
		fmt.Fprintf(w, "quoka:         %d sparse ubatches\n", t.QuokaUbatches)
	}
	fmt.Fprintf(w, "TTFT:          %.2f ms\n", ms(t.TTFT))
	fmt.Fprintf(w, "decode:        %d tokens in %.2f ms (%.2f tokens/s)\n",
		t.DecodeTokens, ms(t.DecodeDuration), t.DecodeTokensPerSecond())
	fmt.Fprintf(w, "generated:     %d tokens, stopped: %s\n", t.GeneratedTokens, t.StopReason)
}

// ms is d in (fractional) milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
