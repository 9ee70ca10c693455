package gollamacompat

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInstalledBindings installs the libraries with scripts/install.sh
// (what `make install PREFIX=...` runs) into a temporary prefix, copies the
// bindings' source (without build/, as a module cache holds it) next to a
// small program in a module outside the checkout, and builds it with
// -tags quoka_pkgconfig against the installed quoka-llama.pc only.
//
// What it proves: the installed libraries, headers and pkg-config file are
// enough to build and run the bindings from a copy of their source with no
// build/ beside it. What it does not: a download through a module proxy
// (the module is reached with a replace directive, offline).
func TestInstalledBindings(t *testing.T) {
	model := sharedPath(t, "models/stories260K.gguf")
	if _, err := exec.LookPath("pkg-config"); err != nil {
		t.Fatalf("pkg-config is needed to build the installed bindings: %v", err)
	}
	root := repoRoot(t)
	prefix := filepath.Join(t.TempDir(), "prefix")
	install := exec.Command(filepath.Join(root, "scripts", "install.sh"), prefix)
	install.Dir = root
	// QUOKA_INSTALL_BUILD_DIR: install another build instead of build/llama-build, e.g. the CUDA
	// one of scripts/cuda-link-check.sh (its libggml-cuda.a must then link into the program)
	buildDir := os.Getenv("QUOKA_INSTALL_BUILD_DIR")
	if buildDir != "" {
		install.Env = append(os.Environ(), "LLAMA_BUILD_DIR="+buildDir)
	}
	out, err := install.CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, f := range []string{"lib/libllama.a", "lib/libggml-base.a", "include/quoka-llama/llama.h", "lib/pkgconfig/quoka-llama.pc"} {
		assert.FileExists(t, filepath.Join(prefix, f))
	}

	// A copy of the module's source: go.mod, go.sum and the bindings.
	src := filepath.Join(t.TempDir(), "quoka")
	copyFile := func(rel string) {
		b, err := os.ReadFile(filepath.Join(root, rel))
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(src, rel)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(src, rel), b, 0o644))
	}
	copyFile("go.mod")
	copyFile("go.sum")
	entries, err := os.ReadDir(filepath.Join(root, "bindings", "llama"))
	require.NoError(t, err)
	for _, e := range entries {
		if n := e.Name(); !e.IsDir() && !strings.HasSuffix(n, "_test.go") &&
			(strings.HasSuffix(n, ".go") || strings.HasSuffix(n, ".c") || strings.HasSuffix(n, ".h")) {
			copyFile(filepath.Join("bindings", "llama", n))
		}
	}
	require.NoDirExists(t, filepath.Join(src, "build"))

	prog := `package main

import (
	"fmt"
	"os"

	llama "github.com/quoka-llm/quoka/bindings/llama"
)

func main() {
	l, err := llama.New(os.Args[1], llama.SetContext(128))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer l.Free()
	out, err := l.Predict("Once upon a time", llama.SetTemperature(0), llama.SetTokens(16), llama.SetThreads(1))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Print(out)
}
`
	dir, env := tempModule(t, map[string]string{"main.go": prog})
	gomod := filepath.Join(dir, "go.mod")
	b, err := os.ReadFile(gomod)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(gomod, []byte(strings.Replace(string(b), "=> "+root, "=> "+src, 1)), 0o644))
	env = append(env, "PKG_CONFIG_PATH="+filepath.Join(prefix, "lib", "pkgconfig"), "CGO_CPPFLAGS=")

	bin := filepath.Join(t.TempDir(), "prog")
	out2, err := goIn(dir, env, "build", "-o", bin, ".")
	require.Error(t, err, "without the tag the bindings look for build/ beside their source, which is absent")
	assert.Contains(t, out2, "llama.h")

	out2, err = goIn(dir, env, "build", "-tags", "quoka_pkgconfig", "-o", bin, ".")
	require.NoError(t, err, "%s", out2)
	if _, err := os.Stat(filepath.Join(prefix, "lib", "libggml-cuda.a")); err == nil {
		// a CUDA build: the backend is linked in and registers itself (no GPU here: no devices,
		// so the run below is the CPU's)
		nm, err := goIn(dir, env, "tool", "nm", bin)
		require.NoError(t, err)
		assert.Contains(t, nm, "ggml_backend_cuda_reg")
		assert.Contains(t, nm, "ggml_cuda_op_quoka_select")
	} else {
		require.Empty(t, buildDir, "%s has no libggml-cuda.a", buildDir)
	}
	stdout, _ := run(t, "", bin, model)
	assert.Equal(t, golden[:len(", there was a little girl named Lily. She loved to play")], stdout[:min(len(stdout), 55)])
}
