package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/chzyer/readline"
	"github.com/urfave/cli/v2"

	"github.com/quoka-llm/quoka/bindings/llama"
)

func chatCommand() *cli.Command {
	flags := []cli.Flag{
		modelFlag,
		&cli.StringFlag{Name: "system", Aliases: []string{"sys"}, Usage: "system prompt `TEXT` (chat-template mode)"},
	}
	flags = append(flags, contextFlags()...)
	flags = append(flags, samplingFlags(256)...)
	return &cli.Command{
		Name:      "chat",
		Usage:     "chat with a model",
		UsageText: "quokarun chat -m MODEL [options]",
		Description: "Reads messages line by line (with line editing on a terminal) and streams the replies. " +
			"Turns are formatted with the model's chat template; a model without one (or with one " +
			"llama.cpp does not know) is used in plain-completion mode: each line is appended to the " +
			"text so far and continued. The conversation stays in the context window; the oldest turns " +
			"are dropped when it fills up. /exit or Ctrl-D (end of input) quits, /clear starts over, " +
			"Ctrl-C interrupts a reply.",
		Flags:        flags,
		OnUsageError: onUsageError,
		Action:       chatAction,
	}
}

func chatAction(c *cli.Context) error {
	stdout, stderr := c.App.Writer, c.App.ErrWriter
	path, err := modelPath(c)
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

	loadCtx, stop := signal.NotifyContext(c.Context, os.Interrupt)
	m, err := loadModel(loadCtx, c, path, stderr)
	stop()
	if err != nil {
		return err
	}
	defer m.Free()
	cp.NCtx = fitContext(cp.NCtx, m.NCtxTrain(), 0, 0)
	lc, err := llama.NewContext(m, cp)
	if err != nil {
		return err
	}
	defer lc.Free()
	noteQuokaOff(stderr, lc, cp)
	if c.Bool("verbose") {
		printSetup(stderr, m, lc)
	}

	s := &chatSession{model: m, ctx: lc, gen: gen, stdout: stdout, stderr: stderr, verbose: c.Bool("verbose")}
	s.reserve = min(max(gen.MaxTokens, 64), lc.NCtx()/4)
	if _, err := m.ApplyChatTemplate([]llama.ChatMessage{{Role: "user", Content: "hi"}}, true); err != nil {
		fmt.Fprintf(stderr, "quokarun: %v: chatting in plain-completion mode\n", err)
	} else {
		s.template = true
		if sys := c.String("system"); sys != "" {
			s.history = []llama.ChatMessage{{Role: "system", Content: sys}}
		}
	}

	in, err := newLineReader(c.App.Reader, stdout, stderr)
	if err != nil {
		return err
	}
	defer in.Close()
	for {
		line, err := in.ReadLine()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch line = strings.TrimSpace(line); line {
		case "":
			continue
		case "/exit", "/quit":
			return nil
		case "/clear":
			s.clear()
			continue
		}
		if err := s.turn(c.Context, line); err != nil {
			if errors.Is(err, llama.ErrClosed) {
				return err
			}
			fmt.Fprintf(stderr, "quokarun: %s\n", oneLine(err.Error()))
		}
	}
}

// chatSession keeps a conversation in a context's KV cache.
type chatSession struct {
	model   *llama.Model
	ctx     *llama.Session
	gen     llama.GenerateOptions
	stdout  io.Writer
	stderr  io.Writer
	verbose bool
	reserve int // context positions kept free for a reply

	template bool                // format turns with the chat template
	history  []llama.ChatMessage // template mode: the conversation
	inKV     string              // template mode: the formatted text the KV cache holds ("" if unknown)
}

func (s *chatSession) clear() {
	s.ctx.ClearKV()
	s.inKV = ""
	if len(s.history) > 0 && s.history[0].Role == "system" {
		s.history = s.history[:1]
	} else {
		s.history = nil
	}
}

// turn answers one user message, streaming the reply. Ctrl-C interrupts the
// reply (what was generated stays in the conversation).
func (s *chatSession) turn(parent context.Context, message string) error {
	var tokens []llama.Token
	var err error
	if s.template {
		tokens, err = s.templatePrompt(message)
	} else {
		tokens, err = s.plainPrompt(message)
	}
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(parent, os.Interrupt)
	defer stop()
	gen := s.gen
	gen.ParseSpecial = s.template
	gen.OnToken = func(piece string) bool {
		_, err := io.WriteString(s.stdout, piece)
		return err == nil
	}
	reply, t, err := s.ctx.GenerateTokens(ctx, tokens, gen)
	fmt.Fprintln(s.stdout)
	if s.template {
		s.history = append(s.history, llama.ChatMessage{Role: "assistant", Content: reply})
		if err == nil && (t.StopReason == llama.StopEOG || t.StopReason == llama.StopMaxTokens) {
			s.inKV += reply
		} else {
			s.inKV = "" // the KV cache and the history disagree: rebuild next turn
		}
	}
	if s.verbose {
		printTimings(s.stderr, t)
	}
	switch {
	case ctx.Err() != nil && parent.Err() == nil:
		fmt.Fprintln(s.stderr, "(interrupted)")
		return nil
	case t.StopReason == llama.StopContextFull:
		fmt.Fprintln(s.stderr, "(context full: reply cut short)")
	}
	return err
}

// templatePrompt adds message to the history and returns the tokens to feed:
// the part of the formatted conversation not yet in the KV cache. It drops
// the oldest turns when the conversation and a reply would not fit.
func (s *chatSession) templatePrompt(message string) ([]llama.Token, error) {
	s.history = append(s.history, llama.ChatMessage{Role: "user", Content: message})
	for {
		formatted, err := s.model.ApplyChatTemplate(s.history, true)
		if err != nil {
			return nil, err
		}
		text := formatted
		if s.inKV != "" && s.ctx.NPast() > 0 && strings.HasPrefix(formatted, s.inKV) {
			text = formatted[len(s.inKV):]
		} else {
			s.ctx.ClearKV()
		}
		tokens, err := s.ctx.Tokenize(text, s.ctx.NPast() == 0, true)
		if err != nil {
			return nil, err
		}
		need := s.ctx.NPast() + len(tokens)
		if need+s.reserve <= s.ctx.NCtx() {
			s.inKV = formatted
			return tokens, nil
		}
		if s.dropOldestTurn() {
			s.inKV = "" // the prefix in the KV cache is stale now
			continue
		}
		// Only the newest message (and the system prompt) is left.
		if need < s.ctx.NCtx() {
			s.inKV = formatted // it fits, with less room for the reply
			return tokens, nil
		}
		s.history = s.history[:len(s.history)-1]
		s.ctx.ClearKV()
		s.inKV = ""
		return nil, &llama.PromptTooLongError{Tokens: len(tokens), Available: s.ctx.NCtx(), NCtx: s.ctx.NCtx()}
	}
}

// dropOldestTurn removes the oldest user message and the reply to it,
// keeping the system prompt and the newest message. It reports whether it
// removed anything.
func (s *chatSession) dropOldestTurn() bool {
	first := 0
	if len(s.history) > 0 && s.history[0].Role == "system" {
		first = 1
	}
	if len(s.history)-first <= 1 {
		return false
	}
	n := 1
	if first+1 < len(s.history)-1 && s.history[first+1].Role == "assistant" {
		n = 2
	}
	s.history = append(s.history[:first], s.history[first+n:]...)
	return true
}

// plainPrompt appends message to the text in the KV cache (on a new line),
// starting over when it and a reply would not fit.
func (s *chatSession) plainPrompt(message string) ([]llama.Token, error) {
	if s.ctx.NPast() > 0 {
		tokens, err := s.ctx.Tokenize("\n"+message, false, false)
		if err != nil {
			return nil, err
		}
		if s.ctx.NPast()+len(tokens)+s.reserve <= s.ctx.NCtx() {
			return tokens, nil
		}
		s.ctx.ClearKV()
	}
	tokens, err := s.ctx.Tokenize(message, true, false)
	if err != nil {
		return nil, err
	}
	if len(tokens) >= s.ctx.NCtx() {
		return nil, &llama.PromptTooLongError{Tokens: len(tokens), Available: s.ctx.NCtx(), NCtx: s.ctx.NCtx()}
	}
	return tokens, nil
}

// lineReader reads the user's lines: with readline on a terminal, plainly
// from a pipe or file.
type lineReader interface {
	ReadLine() (string, error) // io.EOF at the end of input
	Close() error
}

func newLineReader(in io.Reader, stdout, stderr io.Writer) (lineReader, error) {
	if isTerminal(in) && isTerminal(stdout) {
		rl, err := readline.NewEx(&readline.Config{
			Prompt:          "> ",
			InterruptPrompt: "^C",
			EOFPrompt:       "/exit",
			Stdin:           io.NopCloser(in),
			Stdout:          stdout,
			Stderr:          stderr,
		})
		if err != nil {
			return nil, err
		}
		fmt.Fprintln(stderr, "Type a message; /exit or Ctrl-D quits, Ctrl-C interrupts a reply.")
		return &terminalReader{rl: rl}, nil
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	return &pipeReader{sc: sc}, nil
}

type terminalReader struct{ rl *readline.Instance }

func (r *terminalReader) ReadLine() (string, error) {
	for {
		line, err := r.rl.Readline()
		if errors.Is(err, readline.ErrInterrupt) {
			continue // Ctrl-C at the prompt clears the line
		}
		return line, err
	}
}

func (r *terminalReader) Close() error { return r.rl.Close() }

type pipeReader struct{ sc *bufio.Scanner }

func (r *pipeReader) ReadLine() (string, error) {
	if r.sc.Scan() {
		return r.sc.Text(), nil
	}
	if err := r.sc.Err(); err != nil {
		return "", err
	}
	return "", io.EOF
}

func (r *pipeReader) Close() error { return nil }
