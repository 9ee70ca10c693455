package models

import "errors"

// Sentinel errors returned (wrapped with the file path) by ReadInfo.
// Test for them with errors.Is.
var (
	// ErrNotFound reports that the model file does not exist.
	ErrNotFound = errors.New("model file not found")
	// ErrNotGGUF reports that the file is not a GGUF file: it is empty,
	// a directory, or does not start with the "GGUF" magic.
	ErrNotGGUF = errors.New("not a GGUF file")
	// ErrTruncated reports that the file is shorter than its header or its
	// tensor data table says it should be.
	ErrTruncated = errors.New("truncated GGUF file")
	// ErrMalformed reports a GGUF file whose header cannot be decoded
	// (unsupported version, invalid value types, out-of-range counts).
	ErrMalformed = errors.New("malformed GGUF file")
)
