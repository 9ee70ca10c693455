package ggufedit

import "encoding/binary"

// Mutation is a named change to a parsed GGUF file, for seeding fuzzers
// with malformed metadata of the kind llama.cpp's loader trusts.
type Mutation struct {
	Name  string
	Apply func(f *File)
}

// retype gives key a value of another type (the old value dropped).
func retype(key string, typ uint32, value []byte) func(*File) {
	return func(f *File) {
		if f.Get(key) != nil {
			f.Set(key, typ, value)
		}
	}
}

// shorten keeps the first n elements of the scalar array at key.
func shorten(key string, n uint64) func(*File) {
	return func(f *File) {
		kv := f.Get(key)
		if kv == nil || kv.Type != TypeArray || len(kv.Value) < 12 {
			return
		}
		elem := binary.LittleEndian.Uint32(kv.Value)
		size := uint64(scalarSize[elem])
		if size == 0 || 12+n*size > uint64(len(kv.Value)) {
			return
		}
		kv.Value = Array(elem, n, kv.Value[12:12+n*size])
	}
}

// archKey returns a func that applies fn to "<arch>.<suffix>".
func archKey(suffix string, fn func(key string) func(*File)) func(*File) {
	return func(f *File) {
		arch := "llama"
		if kv := f.Get("general.architecture"); kv != nil && kv.Type == TypeString && len(kv.Value) > 8 {
			arch = string(kv.Value[8:])
		}
		fn(arch + "." + suffix)(f)
	}
}

func setU32(v uint32) func(string) func(*File) {
	return func(key string) func(*File) { return retype(key, TypeUint32, U32(v)) }
}

// Mutations lists metadata changes that once made llama.cpp's loader abort
// or read out of bounds rather than fail, plus neighbours of them.
func Mutations() []Mutation {
	strs := Array(TypeString, 2, append(Str("a"), Str("b")...))
	ints := Array(TypeInt32, 2, make([]byte, 8))
	return []Mutation{
		{"tokens as int32s", retype("tokenizer.ggml.tokens", TypeArray, ints)},
		{"tokens as a string", retype("tokenizer.ggml.tokens", TypeString, Str("x"))},
		{"scores as strings", retype("tokenizer.ggml.scores", TypeArray, strs)},
		{"scores short", shorten("tokenizer.ggml.scores", 3)},
		{"token types as strings", retype("tokenizer.ggml.token_type", TypeArray, strs)},
		{"token types short", shorten("tokenizer.ggml.token_type", 3)},
		{"no tokens", func(f *File) { f.Delete("tokenizer.ggml.tokens") }},
		{"empty tokens", retype("tokenizer.ggml.tokens", TypeArray, Array(TypeString, 0, nil))},
		{"architecture as u32", retype("general.architecture", TypeUint32, U32(1))},
		{"unknown architecture", retype("general.architecture", TypeString, Str("nonesuch"))},
		{"tokenizer model as u32", retype("tokenizer.ggml.model", TypeUint32, U32(1))},
		{"unknown tokenizer", retype("tokenizer.ggml.model", TypeString, Str("nonesuch"))},
		{"bos id as string", retype("tokenizer.ggml.bos_token_id", TypeString, Str("1"))},
		{"bos id out of range", retype("tokenizer.ggml.bos_token_id", TypeUint32, U32(1<<30))},
		{"no heads", archKey("attention.head_count", setU32(0))},
		{"no kv heads", archKey("attention.head_count_kv", setU32(0))},
		{"heads not dividing", archKey("attention.head_count", setU32(7))},
		{"many heads", archKey("attention.head_count", setU32(1<<20))},
		{"no layers", archKey("block_count", setU32(0))},
		{"many layers", archKey("block_count", setU32(1<<20))},
		{"no embedding", archKey("embedding_length", setU32(0))},
		{"no context", archKey("context_length", setU32(0))},
		{"huge rope dims", archKey("rope.dimension_count", setU32(1<<20))},
		{"eps as string", archKey("attention.layer_norm_rms_epsilon", func(k string) func(*File) {
			return retype(k, TypeString, Str("x"))
		})},
		{"alignment zero", retype("general.alignment", TypeUint32, U32(0))},
		{"rope scaling unknown", archKey("rope.scaling.type", func(k string) func(*File) {
			return func(f *File) { f.Set(k, TypeString, Str("cubic")) }
		})},
		{"experts without used count", archKey("expert_count", func(k string) func(*File) {
			return func(f *File) { f.Set(k, TypeUint32, U32(4)) }
		})},
		{"duplicate token", duplicateToken},
	}
}

// duplicateToken gives the second token the first one's text.
func duplicateToken(f *File) {
	kv := f.Get("tokenizer.ggml.tokens")
	if kv == nil || kv.Type != TypeArray || len(kv.Value) < 12 ||
		binary.LittleEndian.Uint32(kv.Value) != TypeString {
		return
	}
	r := &reader{b: kv.Value, off: 12}
	n := binary.LittleEndian.Uint64(kv.Value[4:])
	words := make([][]byte, 0, n)
	for range n {
		w, err := r.str()
		if err != nil {
			return
		}
		words = append(words, Str(w))
	}
	if len(words) < 2 {
		return
	}
	words[1] = words[0]
	var elems []byte
	for _, w := range words {
		elems = append(elems, w...)
	}
	kv.Value = Array(TypeString, n, elems)
}
