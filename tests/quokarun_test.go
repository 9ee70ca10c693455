package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// goldenCompletion is stories260K's greedy continuation of
// "Once upon a time" (BOS added) in upstream llama.cpp.
const goldenCompletion = ", there was a little girl named Lily. She loved to play outside in the park."

func storiesModel(t *testing.T) string { return sharedPath(t, "models/stories260K.gguf") }

func TestRunGolden(t *testing.T) {
	model := storiesModel(t)
	r := runQuokarun(t, "", "run", "-m", model, "-p", "Once upon a time", "-n", "32", "--temp", "0")
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.True(t, strings.HasPrefix(r.stdout, goldenCompletion), "stdout: %q", r.stdout)
	assert.Empty(t, r.stderr, "nothing on stderr without --verbose (and no llama.cpp logs)")

	t.Run("echo and ubatch", func(t *testing.T) {
		r := runQuokarun(t, "", "run", "-m", model, "-p", "Once upon a time", "-n", "32", "--temp", "0", "--echo", "-ub", "16", "-t", "1")
		require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
		assert.True(t, strings.HasPrefix(r.stdout, "Once upon a time"+goldenCompletion), "stdout: %q", r.stdout)
	})
	t.Run("prompt file and verbose timings", func(t *testing.T) {
		prompt := filepath.Join(t.TempDir(), "prompt.txt")
		require.NoError(t, os.WriteFile(prompt, []byte("Once upon a time"), 0o644))
		r := runQuokarun(t, "", "run", "-m", model, "-f", prompt, "-n", "8", "--temp", "0", "--verbose", "-fa", "off")
		require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
		assert.True(t, strings.HasPrefix(goldenCompletion, strings.TrimSpace(r.stdout)), "stdout: %q", r.stdout)
		for _, want := range []string{"prompt tokens: 5", "prefill:", "TTFT:", "tokens/s", "decode:", "n_ubatch 512", "flash-attn off", "quoka off"} {
			assert.Contains(t, r.stderr, want)
		}
	})
	t.Run("quoka on", func(t *testing.T) {
		// a prompt of 600 tokens in chunks of 64 with B_SA 64: the chunks from position 128 on
		// select 64 of their past keys; the verbose timings count them
		prompt := filepath.Join(t.TempDir(), "long.txt")
		text, err := os.ReadFile(sharedPath(t, "data/tinystories-sample.txt"))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(prompt, text[:1800], 0o644))
		r := runQuokarun(t, "", "run", "-m", model, "-f", prompt, "-n", "16", "--temp", "0", "-c", "1024",
			"--quoka", "--quoka-budget", "64", "-ub", "64", "--verbose")
		require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
		assert.Contains(t, r.stderr, "quoka B_SA=64 N_Q=16")
		var n int
		_, err = fmt.Sscanf(r.stderr[strings.Index(r.stderr, "quoka:"):], "quoka: %d sparse ubatches", &n)
		require.NoError(t, err, r.stderr)
		assert.Greater(t, n, 3, "QUOKA engaged in the chunks whose past exceeds B_SA")
		assert.NotEmpty(t, strings.TrimSpace(r.stdout))
	})
	t.Run("quoka with a short prompt stays dense", func(t *testing.T) {
		// a short prompt has no past to select from: the golden text, and no sparse ubatch
		r := runQuokarun(t, "", "run", "-m", model, "-p", "Once upon a time", "-n", "32", "--temp", "0",
			"--quoka", "--quoka-budget", "64", "-ub", "2", "--verbose")
		require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
		assert.True(t, strings.HasPrefix(r.stdout, goldenCompletion), "stdout: %q", r.stdout)
		assert.Contains(t, r.stderr, "quoka:         0 sparse ubatches")
	})
}

func TestRunErrors(t *testing.T) {
	model := storiesModel(t)
	dir := t.TempDir()
	good, err := os.ReadFile(model)
	require.NoError(t, err)
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, data, 0o644))
		return p
	}
	empty := write("empty.gguf", nil)
	magic := write("magic.gguf", append([]byte("GGML"), good[4:]...))
	truncated := write("half.gguf", good[:len(good)/2])
	missing := filepath.Join(dir, "missing.gguf")
	longPrompt := strings.Repeat("Once upon a time there was a cat. ", 200) // ~1800 tokens

	for _, tc := range []struct {
		name string
		args []string
		want string // in the stderr line
	}{
		{"missing model", []string{"run", "-m", missing, "-p", "hi"}, `model "` + missing + `": file not found`},
		{"empty model", []string{"run", "-m", empty, "-p", "hi"}, "not a GGUF file"},
		{"wrong magic", []string{"run", "-m", magic, "-p", "hi"}, "not a GGUF file"},
		{"truncated model", []string{"run", "-m", truncated, "-p", "hi"}, "truncated"},
		{"prompt too long", []string{"run", "-m", model, "-c", "256", "-p", longPrompt}, "prompt too long"},
		{"no prompt", []string{"run", "-m", model}, "no prompt"},
		{"no model", []string{"run", "-p", "hi"}, "model"},
		{"unknown flag", []string{"run", "-m", model, "-p", "hi", "--bogus"}, "bogus"},
		{"bad number", []string{"run", "-m", model, "-p", "hi", "-n", "many"}, "n"},
		{"bad flash-attn", []string{"run", "-m", model, "-p", "hi", "-fa", "sometimes"}, "flash"},
		{"bad ubatch", []string{"run", "-m", model, "-p", "hi", "-ub", "0"}, "ubatch-size"},
		{"bad top-p", []string{"run", "-m", model, "-p", "hi", "--top-p", "2"}, "top-p"},
		{"bad quoka budget", []string{"run", "-m", model, "-p", "hi", "--quoka-budget", "lots"}, "--quoka-budget"},
		{"quoka without flash attention", []string{"run", "-m", model, "-p", "hi", "--quoka", "-fa", "off"}, "flash attention"},
		{"quoka budget over 100%", []string{"run", "-m", model, "-p", "hi", "--quoka-budget", "120%"}, "--quoka-budget"},
		{"info missing", []string{"info", "-m", missing}, "file not found"},
		{"info truncated", []string{"info", "-m", truncated}, "truncated"},
		{"chat missing", []string{"chat", "-m", missing}, "file not found"},
		{"synth unknown preset", []string{"synth", "-o", filepath.Join(dir, "x.gguf"), "--preset", "huge"}, "huge"},
		{"unknown command", []string{"fly"}, "fly"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runQuokarun(t, "", tc.args...)
			assert.NotEqual(t, 0, r.code)
			lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
			require.Len(t, lines, 1, "exactly one line on stderr, got:\n%s", r.stderr)
			assert.True(t, strings.HasPrefix(lines[0], "quokarun: "), "stderr: %q", lines[0])
			assert.Contains(t, lines[0], tc.want)
			assert.NotContains(t, r.stderr, "goroutine", "no Go stack trace")
		})
	}
}

func TestInfo(t *testing.T) {
	r := runQuokarun(t, "", "info", "-m", storiesModel(t))
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	for _, want := range []string{"llama", "Layers", "5", "Heads", "8", "KV heads", "4", "Vocab size", "512", "Chat template", "no"} {
		assert.Contains(t, r.stdout, want)
	}
	assert.Regexp(t, `(?m)^Layers:\s+5$`, r.stdout)
}

func TestChatPiped(t *testing.T) {
	model := storiesModel(t)
	r := runQuokarun(t, "Once upon a time\n", "chat", "-m", model, "--temp", "0", "-n", "32")
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.True(t, strings.HasPrefix(r.stdout, goldenCompletion), "stdout: %q", r.stdout)
	assert.Contains(t, r.stderr, "no chat template", "plain-completion mode is announced")
	assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one notice line, got:\n%s", r.stderr)

	t.Run("several turns and /exit", func(t *testing.T) {
		r := runQuokarun(t, "hi\n\nThe dog ran\n/exit\nnot read\n", "chat", "-m", model, "--temp", "0", "-n", "16", "--verbose")
		require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
		assert.Equal(t, 2, strings.Count(r.stderr, "prompt tokens:"), "two replies, stderr:\n%s", r.stderr)
	})
	t.Run("long conversation in a small context", func(t *testing.T) {
		in := strings.Repeat("Tell me a story about a cat and a dog.\n", 30)
		r := runQuokarun(t, in, "chat", "-m", model, "-c", "256", "-n", "48", "--verbose")
		require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
		assert.Equal(t, 30, strings.Count(r.stderr, "prompt tokens:"), "30 replies, stderr:\n%s", r.stderr)
		assert.Equal(t, 1, strings.Count(r.stderr, "quokarun:"), "no error, only the plain-mode notice:\n%s", r.stderr)
	})
}

func TestSynth(t *testing.T) {
	out := filepath.Join(t.TempDir(), "tiny.gguf")
	r := runQuokarun(t, "", "synth", "-o", out, "--preset", "tiny", "--seed", "3")
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Contains(t, r.stderr, "noise")
	assert.Contains(t, r.stdout, out)

	r = runQuokarun(t, "", "info", "-m", out)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Contains(t, r.stdout, "WARNING")

	r = runQuokarun(t, "", "run", "-m", out, "-p", "hello", "-n", "4", "--temp", "0")
	require.Equal(t, 0, r.code, "a synthetic model runs: %s", r.stderr)

	help := runQuokarun(t, "", "synth", "--help")
	for _, p := range []string{"tiny", "bench-small", "bench-1b"} {
		assert.Contains(t, help.stdout, p, "the help lists the presets")
	}
}

// chatmlTemplate is the ChatML template (llama.cpp recognises it by its
// markers).
const chatmlTemplate = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"

// TestChatTemplateMode chats with a copy of stories260K given a ChatML
// template: the story model knows nothing of chat, but the mechanics
// (formatting, reusing the KV cache across turns, dropping old turns) run.
func TestChatTemplateMode(t *testing.T) {
	model := filepath.Join(t.TempDir(), "stories-chatml.gguf")
	withMetadata(t, storiesModel(t), model, "tokenizer.chat_template", chatmlTemplate)

	r := runQuokarun(t, "", "info", "-m", model)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Regexp(t, `Chat template:\s+yes`, r.stdout)

	t.Run("turns reuse the KV cache", func(t *testing.T) {
		r := runQuokarun(t, "Hello there\nTell me more\nAnd then?\n", "chat", "-m", model, "--temp", "0", "-n", "16", "--verbose", "--system", "You tell stories.")
		require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
		assert.NotContains(t, r.stderr, "plain-completion")
		prompts := regexp.MustCompile(`prompt tokens: (\d+)`).FindAllStringSubmatch(r.stderr, -1)
		require.Len(t, prompts, 3, "three replies, stderr:\n%s", r.stderr)
		first, _ := strconv.Atoi(prompts[0][1])
		second, _ := strconv.Atoi(prompts[1][1])
		assert.Less(t, second, first+16, "the second turn feeds only what is new (%d vs %d)", second, first)
	})
	t.Run("old turns are dropped in a small context", func(t *testing.T) {
		in := strings.Repeat("Tell me a story about a cat and a dog, please.\n", 25)
		r := runQuokarun(t, in, "chat", "-m", model, "-c", "256", "-n", "40", "--verbose")
		require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
		assert.Equal(t, 25, strings.Count(r.stderr, "prompt tokens:"), "25 replies, stderr:\n%s", r.stderr)
		assert.NotContains(t, r.stderr, "quokarun:", "no errors")
	})
}
