// Package tests holds quoka's end-to-end tests: they build quokarun once
// and run it on the real models in ../shared beside the repository.
package tests

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quoka-llm/quoka/internal/sharedtest"
)

var (
	// quokarun is the binary built by TestMain.
	quokarun string
	// repoRoot is the repository root (this package's parent folder).
	repoRoot string
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	root, err := filepath.Abs("..")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	repoRoot = root
	tmp, err := os.MkdirTemp("", "quokarun-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	quokarun = filepath.Join(tmp, "quokarun")
	build := exec.Command("go", "build", "-o", quokarun, "./cmd/quokarun")
	build.Dir = repoRoot
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building quokarun: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// sharedPath returns a file under ../shared beside the repository root,
// skipping the test when ../shared is absent, as on a fresh clone (in CI with
// ../shared present a skip is a failure, see sharedtest).
func sharedPath(t *testing.T, rel string) string {
	t.Helper()
	return sharedtest.Path(t, rel)
}

// result is the outcome of one quokarun run.
type result struct {
	stdout, stderr string
	code           int
}

// runQuokarun runs the binary with args and stdin, failing the test if it
// does not finish within a minute.
func runQuokarun(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return runQuokarunTimeout(t, 60, stdin, args...)
}

// runQuokarunTimeout is runQuokarun with a limit of seconds.
func runQuokarunTimeout(t *testing.T, seconds int, stdin string, args ...string) result {
	t.Helper()
	return runQuokarunEnv(t, nil, seconds, stdin, args...)
}

// runQuokarunEnv is runQuokarunTimeout with env added to the test's environment.
func runQuokarunEnv(t *testing.T, env []string, seconds int, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(quokarun, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(time.Duration(seconds) * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("quokarun %s: timed out\nstderr: %s", strings.Join(args, " "), stderr.String())
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
}
