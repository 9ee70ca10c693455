package llama

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"math"
	"unsafe"
)

// ChatMessage is one turn of a conversation.
type ChatMessage struct {
	Role    string // "system", "user" or "assistant"
	Content string
}

// ApplyChatTemplate formats msgs with the model's chat template from its
// GGUF metadata. With addAssistant the result ends with the opening of an
// assistant turn, ready for generation. Tokenize the result with
// parseSpecial set so that the template's markers become special tokens.
//
// llama.cpp recognises a fixed list of common templates (it has no Jinja
// engine): others fail with ErrUnsupportedChatTemplate. A model without a
// template fails with ErrNoChatTemplate.
func (m *Model) ApplyChatTemplate(msgs []ChatMessage, addAssistant bool) (string, error) {
	if m.live() == nil {
		return "", ErrClosed
	}
	tmpl := m.ChatTemplate()
	if tmpl == "" {
		return "", ErrNoChatTemplate
	}
	return applyChatTemplate(tmpl, msgs, addAssistant)
}

// applyChatTemplate formats msgs with tmpl, a template's source text or the
// name of one of llama.cpp's built-in templates (e.g. "chatml").
func applyChatTemplate(tmpl string, msgs []ChatMessage, addAssistant bool) (string, error) {
	ctmpl := C.CString(tmpl)
	defer C.free(unsafe.Pointer(ctmpl))

	// The message array and its strings must live in C memory.
	var cmsgs *C.struct_llama_chat_message
	size := 256
	if len(msgs) > 0 {
		cmsgs = (*C.struct_llama_chat_message)(C.calloc(C.size_t(len(msgs)), C.size_t(unsafe.Sizeof(C.struct_llama_chat_message{}))))
		defer C.free(unsafe.Pointer(cmsgs))
	}
	arr := unsafe.Slice(cmsgs, len(msgs))
	for i, msg := range msgs {
		arr[i].role = C.CString(msg.Role)
		arr[i].content = C.CString(msg.Content)
		size += 2 * (len(msg.Role) + len(msg.Content))
	}
	defer func() {
		for i := range arr {
			C.free(unsafe.Pointer(arr[i].role))
			C.free(unsafe.Pointer(arr[i].content))
		}
	}()

	for {
		if size > math.MaxInt32 {
			return "", fmt.Errorf("llama: chat of %d bytes is too long to format", size)
		}
		buf := (*C.char)(C.malloc(C.size_t(size)))
		n := C.llama_chat_apply_template(ctmpl, cmsgs, C.size_t(len(msgs)), C.bool(addAssistant), buf, C.int32_t(size))
		if n >= 0 && int(n) <= size {
			s := C.GoStringN(buf, n)
			C.free(unsafe.Pointer(buf))
			return s, nil
		}
		C.free(unsafe.Pointer(buf))
		if n < 0 {
			return "", ErrUnsupportedChatTemplate
		}
		size = int(n)
	}
}
