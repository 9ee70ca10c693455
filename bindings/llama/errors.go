package llama

import (
	"errors"
	"fmt"
)

// Sentinel errors. Functions wrap them with context (the file, the counts),
// so test with errors.Is (or errors.As for *PromptTooLongError).
var (
	// ErrModelNotFound: the model path does not exist or is not a regular file.
	ErrModelNotFound = errors.New("file not found")
	// ErrNotGGUF: the file is not a GGUF model (empty, wrong magic, corrupt header).
	ErrNotGGUF = errors.New("not a GGUF file")
	// ErrInvalidMetadata: the GGUF metadata holds values llama.cpp's loader
	// cannot take (it would abort the process on them, see modelcheck.go).
	ErrInvalidMetadata = errors.New("invalid model metadata")
	// ErrTruncated: the file ends before its header or tensor data does.
	ErrTruncated = errors.New("file is truncated")
	// ErrPromptTooLong: the prompt does not fit in the context window. The
	// concrete error is a *PromptTooLongError carrying the counts.
	ErrPromptTooLong = errors.New("prompt too long")
	// ErrContextFull: the context window has no room left for more tokens.
	ErrContextFull = errors.New("context window is full")
	// ErrNoChatTemplate: the model's GGUF metadata has no chat template.
	ErrNoChatTemplate = errors.New("model has no chat template")
	// ErrUnsupportedChatTemplate: llama.cpp does not recognise the model's
	// chat template (it only knows a fixed list, it has no Jinja engine).
	ErrUnsupportedChatTemplate = errors.New("chat template not supported by llama.cpp")
	// ErrQuokaUnavailable: QUOKA was requested with settings it cannot work
	// with (flash attention off).
	ErrQuokaUnavailable = errors.New("QUOKA sparse attention is not available with these settings")
	// ErrClosed: the Model, Session, Batch or Sampler was already freed.
	ErrClosed = errors.New("llama: use of freed object")
)

// PromptTooLongError reports a prompt that does not fit in the context.
// errors.Is(err, ErrPromptTooLong) holds for it.
type PromptTooLongError struct {
	Tokens    int // tokens in the prompt
	Available int // free positions in the context when the prompt was fed
	NCtx      int // the context's size
}

func (e *PromptTooLongError) Error() string {
	if e.Available == e.NCtx {
		return fmt.Sprintf("prompt too long: %d tokens, the context holds %d", e.Tokens, e.NCtx)
	}
	return fmt.Sprintf("prompt too long: %d tokens, %d of the context's %d positions are free",
		e.Tokens, e.Available, e.NCtx)
}

// Is makes errors.Is(err, ErrPromptTooLong) true.
func (e *PromptTooLongError) Is(target error) bool { return target == ErrPromptTooLong }
