// Command quokarun runs GGUF models with llama.cpp, optionally with QUOKA
// sparse prefill attention: one-shot completions (run), interactive chat
// (chat), model inspection (info) and synthetic benchmark models (synth).
//
// Errors end the program with status 1 (2 for bad usage, 130 when
// interrupted) and one line on stderr, e.g.
//
//	quokarun: model "x.gguf": file not found
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
)

func main() {
	os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr))
}

// run executes the command line and returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) (status int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "quokarun: internal error: %v\n", r)
			status = 1
		}
	}()
	err := newApp(stdin, stdout, stderr).Run(args)
	if err == nil {
		return 0
	}
	var exit *exitError
	if errors.As(err, &exit) && exit.quiet {
		return exit.code
	}
	fmt.Fprintf(stderr, "quokarun: %s\n", oneLine(err.Error()))
	return exitCode(err)
}

func newApp(stdin io.Reader, stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:  "quokarun",
		Usage: "run GGUF models with llama.cpp and QUOKA sparse prefill attention",
		Description: "llama.cpp's own logs are silent; set QUOKA_LOG=info (or debug, warn, error) to see them " +
			"on stderr.",
		Reader:    stdin,
		Writer:    stdout,
		ErrWriter: stderr,
		Commands: []*cli.Command{
			runCommand(),
			chatCommand(),
			infoCommand(),
			synthCommand(),
			benchCommand(),
			evalCommand(),
		},
		// Errors are printed once, by run; cli prints nothing itself.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return usageErrorf("%v", err)
		},
		HideHelpCommand: true,
	}
}

// onUsageError makes a command's flag-parsing errors usage errors (status 2)
// instead of letting cli print its help.
func onUsageError(_ *cli.Context, err error, _ bool) error {
	return usageErrorf("%v (see --help)", err)
}

// exitError carries an exit status; quiet ones print nothing.
type exitError struct {
	code  int
	err   error
	quiet bool
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, args...)}
}

// errInterrupted ends a command stopped by Ctrl-C: status 130, like a shell.
var errInterrupted = &exitError{code: 130, err: errors.New("interrupted")}

func exitCode(err error) int {
	var exit *exitError
	if errors.As(err, &exit) {
		return exit.code
	}
	return 1
}

// oneLine keeps an error message on one line (joined errors have several).
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}
