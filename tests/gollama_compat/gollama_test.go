// Package gollamacompat tests the bindings as a go-llama.cpp program uses
// them: example/ is go-llama.cpp's example program and upstream/ its test
// suite (commit 6a8041ef6b46d4712afc3ae791d1c2d73da0ad1c), both unchanged
// but for the import path; the tests here build and run them, call the API
// in go-llama.cpp's style on the shared models, and compare the embeddings
// with upstream's llama-embedding tool.
package gollamacompat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/quoka-llm/quoka/bindings/llama"
)

// golden is stories260K's greedy continuation of "Once upon a time"
// (upstream llama.cpp, BOS added), from ../shared/README.md.
const (
	goldenPrompt = "Once upon a time"
	golden       = ", there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball."
)

// repoRoot is the repository root, two levels up.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	return root
}

// sharedPath returns a file under ../shared beside the repository root,
// skipping the test when it is absent, as on a fresh clone.
func sharedPath(t *testing.T, rel string) string {
	t.Helper()
	p := filepath.Join(repoRoot(t), "..", "shared", filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s not available (../shared is absent beside the repository): %v", rel, err)
	}
	return p
}

// llamaTool is an upstream tool built with the patched llama.cpp, in
// $LLAMA_BUILD_DIR/bin or build/llama-build/bin (as scripts/common.sh
// places them). A missing tool fails the test: it is part of the build.
func llamaTool(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("LLAMA_BUILD_DIR")
	if dir == "" {
		dir = filepath.Join(repoRoot(t), "build", "llama-build")
	}
	p := filepath.Join(dir, "bin", name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s is missing (%v): build it with the llama.cpp build (target %s)", p, err, name)
	}
	return p
}

// goCmd runs the go command in the repository root.
func goCmd(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go %s:\n%s", strings.Join(args, " "), out)
	return string(out)
}

func run(t *testing.T, stdin string, bin string, args ...string) (stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	cmd.WaitDelay = time.Second
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		require.NoError(t, err, "%s %s\nstdout: %s\nstderr: %s", bin, strings.Join(args, " "), o.String(), e.String())
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%s: timed out\nstderr: %s", bin, e.String())
	}
	return o.String(), e.String()
}

// tempModule writes files into a new module outside the checkout that
// requires the quoka module, replaced by this checkout, with the checkout's
// go.sum (so no download or checksum lookup is needed: GOPROXY=off).
func tempModule(t *testing.T, files map[string]string) (dir string, env []string) {
	t.Helper()
	root := repoRoot(t)
	dir = t.TempDir()
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	require.NoError(t, err)
	// The checkout's requirements keep the build list (and go.sum) the same.
	reqs := string(gomod[bytes.Index(gomod, []byte("require")):])
	mod := "module example.com/gollamacompat\n\ngo 1.26\n\nrequire github.com/quoka-llm/quoka v0.0.0\n\n" + reqs +
		"\nreplace github.com/quoka-llm/quoka => " + root + "\n"
	files["go.mod"] = mod
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	require.NoError(t, err)
	files["go.sum"] = string(sum)
	for name, text := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	// the module cache must hold every module of the build list, also those only this module's
	// programs import (ginkgo, gomega): a fresh machine's cache has only what ./... compiled
	out, err := goIn(root, nil, "mod", "download")
	require.NoError(t, err, "go mod download in %s: %s", root, out)
	return dir, []string{"GOPROXY=off", "GOFLAGS=-mod=mod", "GOWORK=off"}
}

// goIn runs the go command in dir and returns its output and error.
func goIn(dir string, env []string, args ...string) (string, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestUpstreamSuite builds go-llama.cpp's own test suite (testdata/upstream,
// with only its import path changed) against the bindings in a module
// outside the checkout and runs it: it dot-imports ginkgo, gomega and the
// bindings together, so it compiles only if no exported identifier of the
// bindings clashes with theirs (the bindings' context type is Session, not
// Context, for this). Without TEST_MODEL (its inference specs ask an
// instruction model what 2+2 is, which the shared models cannot answer) only
// its "fails with no model" spec runs; the rest skip, as upstream.
func TestUpstreamSuite(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("testdata", "upstream", name+".txt"))
		require.NoError(t, err)
		return string(b)
	}
	suite, tests := read("llama_suite_test.go"), read("llama_test.go")
	require.Contains(t, tests, `. "github.com/onsi/ginkgo/v2"`, "the suite as upstream wrote it")
	require.Contains(t, tests, `. "github.com/quoka-llm/quoka/bindings/llama"`)

	dir, env := tempModule(t, map[string]string{"llama_suite_test.go": suite, "llama_test.go": tests})
	out, err := goIn(dir, append(env, "TEST_MODEL="), "test", "-count=1", "-v", ".")
	require.NoError(t, err, "%s", out)
	assert.Regexp(t, `Ran 1 of 5 Specs`, out)
	assert.Contains(t, out, "SUCCESS!")
}

// TestExampleProgram builds go-llama.cpp's example program and runs it on
// stories260K: it predicts with a token callback, then prints the prompt's
// embeddings.
func TestExampleProgram(t *testing.T) {
	model := sharedPath(t, "models/stories260K.gguf")
	bin := filepath.Join(t.TempDir(), "example")
	goCmd(t, nil, "build", "-o", bin, "./tests/gollama_compat/example/")

	stdout, stderr := run(t, goldenPrompt+"\n\n", bin, "-m", model, "-t", "1", "-n", "16", "-s", "42")
	assert.Contains(t, stdout, "Model loaded successfully.")
	assert.Contains(t, stdout, "Sending "+goldenPrompt)
	m := regexp.MustCompile(`Embeddings: \[([^\]]*)\]`).FindStringSubmatch(stdout)
	require.NotNil(t, m, "stdout: %s", stdout)
	fields := strings.Fields(m[1])
	require.Len(t, fields, 64, "stories260K's n_embd")
	var sum float64
	for _, f := range fields {
		v, err := strconv.ParseFloat(f, 64)
		require.NoError(t, err)
		sum += v * v
	}
	assert.InDelta(t, 1, math.Sqrt(sum), 1e-4, "unit length")
	// The example passes llama.Debug: the prompt's tokens and timings.
	assert.Contains(t, stderr, "prompt: 6 tokens", "BOS, four words and the newline the example keeps")
	assert.Contains(t, stderr, "generated 16 tokens")
	assert.NotContains(t, stdout, "Embeddings: error")
}

// TestGoLlamaStyle calls the API as go-llama.cpp's example and tests do.
func TestGoLlamaStyle(t *testing.T) {
	model := sharedPath(t, "models/stories260K.gguf")
	_, err := llama.New("not-existing")
	require.Error(t, err)

	l, err := llama.New(model, llama.EnableF16Memory, llama.SetContext(128), llama.EnableEmbeddings,
		llama.SetGPULayers(0), llama.SetMMap(true), llama.SetNBatch(512))
	require.NoError(t, err)
	defer l.Free()
	// The golden text's length in tokens.
	_, all, err := l.TokenizeString(goldenPrompt + golden)
	require.NoError(t, err)
	_, prompt, err := l.TokenizeString(goldenPrompt)
	require.NoError(t, err)
	n := len(all) - len(prompt)

	for _, tc := range []struct {
		name string
		opts []llama.PredictOption
		want string
	}{
		{"greedy golden", []llama.PredictOption{llama.SetTemperature(0), llama.SetTokens(n)}, golden},
		{"example's options, greedy", []llama.PredictOption{llama.SetTemperature(0), llama.SetTokens(n),
			llama.SetThreads(1), llama.SetTopK(90), llama.SetTopP(0.86), llama.SetStopWords("llama"), llama.SetSeed(1)}, golden},
		{"stop word", []llama.PredictOption{llama.SetTemperature(0), llama.SetTokens(64), llama.SetStopWords(" park")},
			", there was a little girl named Lily. She loved to play outside in the"},
		{"token limit", []llama.PredictOption{llama.SetTemperature(0), llama.SetTokens(4)}, ", there was a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var pieces []string
			out, err := l.Predict(goldenPrompt, append(tc.opts, llama.SetTokenCallback(func(s string) bool {
				pieces = append(pieces, s)
				return true
			}))...)
			require.NoError(t, err)
			assert.Equal(t, tc.want, out)
			assert.Equal(t, out, strings.Join(pieces, ""), "the callback saw the output")
		})
	}

	t.Run("callback stops", func(t *testing.T) {
		n := 0
		out, err := l.Predict(goldenPrompt, llama.SetTemperature(0), llama.SetTokenCallback(func(string) bool {
			n++
			return n < 4
		}))
		require.NoError(t, err)
		assert.Equal(t, 4, n)
		assert.True(t, strings.HasPrefix(golden, out), "%q", out)
	})

	t.Run("TokenizeString", func(t *testing.T) {
		n, toks, err := l.TokenizeString("A STRANGE GAME.\nTHE ONLY WINNING MOVE IS NOT TO PLAY.",
			llama.SetRopeFreqBase(10000.0), llama.SetRopeFreqScale(1))
		require.NoError(t, err)
		assert.Positive(t, n)
		assert.Equal(t, int(n), len(toks))
		assert.Equal(t, int32(1), toks[0], "BOS first")
	})

	t.Run("Embeddings", func(t *testing.T) {
		a, err := l.Embeddings(goldenPrompt)
		require.NoError(t, err)
		b, err := l.Embeddings(goldenPrompt)
		require.NoError(t, err)
		require.Len(t, a, 64)
		assert.Equal(t, a, b)
		_, toks, err := l.TokenizeString(goldenPrompt)
		require.NoError(t, err)
		ints := make([]int, len(toks))
		for i, t := range toks {
			ints[i] = int(t)
		}
		c, err := l.TokenEmbeddings(ints)
		require.NoError(t, err)
		assert.Equal(t, a, c)
	})
}

// TestEmbeddingsMatchLlamaEmbedding compares Embeddings with upstream's
// llama-embedding on stories260K, per pooling and normalisation.
func TestEmbeddingsMatchLlamaEmbedding(t *testing.T) {
	model := sharedPath(t, "models/stories260K.gguf")
	tool := llamaTool(t, "llama-embedding")
	prompts := []string{goldenPrompt, "The little dog wanted to play with the big red ball in the park."}

	for _, tc := range []struct {
		pooling string // llama-embedding's --pooling ("" = the model's: none)
		opt     llama.PoolingType
		norm    int
	}{
		{"", llama.PoolingUnspecified, 2},
		{"mean", llama.PoolingMean, 2},
		{"last", llama.PoolingLast, 2},
		{"mean", llama.PoolingMean, -1},
		{"cls", llama.PoolingCLS, 0},
	} {
		t.Run(fmt.Sprintf("pooling=%s,norm=%d", tc.pooling, tc.norm), func(t *testing.T) {
			l, err := llama.New(model, llama.EnableEmbeddings, llama.SetEmbeddingPooling(tc.opt), llama.SetModelThreads(1))
			require.NoError(t, err)
			defer l.Free()
			for _, p := range prompts {
				want := referenceEmbedding(t, tool, model, p, tc.pooling, tc.norm)
				got, err := l.Embeddings(p, llama.SetEmbeddingNorm(tc.norm))
				require.NoError(t, err)
				require.Len(t, got, len(want))
				var worst float64
				for i := range got {
					worst = max(worst, math.Abs(float64(got[i])-want[i]))
				}
				scale := 1.0
				if tc.norm == 0 { // int16 range: compare relative to it
					scale = 32760
				}
				assert.LessOrEqual(t, worst/scale, 1e-4, "prompt %q: max abs difference", p)
				t.Logf("prompt %q: max abs difference %.2g", p, worst)
			}
		})
	}
}

// referenceEmbedding runs llama-embedding and returns the prompt's
// embedding: the pooled one, or with no pooling the last token's.
func referenceEmbedding(t *testing.T, tool, model, prompt, pooling string, norm int) []float64 {
	t.Helper()
	args := []string{"-m", model, "-p", prompt, "-t", "1", "--embd-output-format", "json", "--embd-normalize", strconv.Itoa(norm)}
	if pooling != "" {
		args = append(args, "--pooling", pooling)
	}
	stdout, _ := run(t, "", tool, args...)
	var doc struct {
		Data []struct {
			Embedding []float64 `json:"embedding"`
		} `json:"data"`
	}
	start := strings.Index(stdout, "{")
	require.GreaterOrEqual(t, start, 0, "no JSON in llama-embedding's output: %s", stdout)
	require.NoError(t, json.NewDecoder(strings.NewReader(stdout[start:])).Decode(&doc), "%s", stdout)
	require.NotEmpty(t, doc.Data)
	return doc.Data[len(doc.Data)-1].Embedding
}
