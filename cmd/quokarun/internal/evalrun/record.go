// Package evalrun holds what the `quokarun eval` runs write and read: one JSONL record per case and
// setting (appended as each finishes, so that an interrupted run keeps its work and --resume can
// continue it), the summary tables (markdown, CSV, JSON) and the plots (NIAH heatmaps, the sweep's
// Pareto plot). Pure Go.
package evalrun

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Record is the outcome of one case under one setting.
type Record struct {
	ID      string `json:"id"`
	Task    string `json:"task"`
	Setting string `json:"setting"` // "dense" or a QUOKA setting such as "B_SA=256 N_Q=16"
	UBatch  int    `json:"n_ubatch"`
	Length  int    `json:"length"` // requested length in tokens
	// Depth is the needle depth in percent (NIAH cases only).
	Depth      *float64 `json:"depth,omitempty"`
	Trial      int      `json:"trial"`
	Tokens     int      `json:"tokens"` // prompt tokens
	PromptHash string   `json:"prompt_hash"`
	Answers    []string `json:"answers"`
	Output     string   `json:"output"`
	Correct    bool     `json:"correct"`
	// Score is the case's score in [0, 1] (1 or 0 for NIAH; RULER's share of references found).
	Score     float64 `json:"score"`
	PrefillMS float64 `json:"prefill_ms"`
	TTFTMS    float64 `json:"ttft_ms"`
	// SparseChunks counts the prefill chunks that took the QUOKA path (in layer 0); -1 when not
	// recorded.
	SparseChunks int `json:"sparse_chunks"`
	// SparseDecode counts the decode steps that took the QUOKA path (in layer 0: with
	// --quoka-decode); -1 when not recorded.
	SparseDecode int `json:"sparse_decode"`
}

// Key identifies a record within a run: its setting and case.
func (r Record) Key() string { return Key(r.Setting, r.UBatch, r.ID) }

// Key builds a record key.
func Key(setting string, ubatch int, id string) string {
	return fmt.Sprintf("%s|ub%d|%s", setting, ubatch, id)
}

// Writer appends records to a JSONL file, one line per record, written as each record comes.
type Writer struct {
	f *os.File
}

// Create opens path for appending records (creating it), or truncates it when fresh is set. When
// appending, a last line cut short (see Load) is dropped first.
func Create(path string, fresh bool) (*Writer, error) {
	flags := os.O_CREATE | os.O_WRONLY | os.O_APPEND
	if fresh {
		flags |= os.O_TRUNC
	} else if err := dropPartialLine(path); err != nil {
		return nil, fmt.Errorf("results file: %w", err)
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return nil, fmt.Errorf("results file: %w", err)
	}
	return &Writer{f: f}, nil
}

// dropPartialLine truncates path after its last newline (a missing file is fine).
func dropPartialLine(path string) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	end := bytes.LastIndexByte(data, '\n') + 1
	if end == len(data) {
		return nil
	}
	return os.Truncate(path, int64(end))
}

// Write appends one record.
func (w *Writer) Write(r Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if _, err := w.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("results file: %w", err)
	}
	return nil
}

// Close closes the file.
func (w *Writer) Close() error { return w.f.Close() }

// Load reads the records of a JSONL file. A last line cut short (a run killed while writing) is
// ignored; any other bad line is an error.
func Load(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("resume file: %w", err)
	}
	defer f.Close()
	return Read(f)
}

// Read reads JSONL records from r (see Load).
func Read(r io.Reader) ([]Record, error) {
	var out []Record
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var bad error
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		if bad != nil {
			return nil, bad
		}
		var rec Record
		if err := json.Unmarshal([]byte(text), &rec); err != nil || rec.ID == "" {
			bad = fmt.Errorf("resume file: line %d is not a result record", line)
			continue
		}
		out = append(out, rec)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("resume file: %w", err)
	}
	return out, nil
}

// Done indexes records by key.
func Done(recs []Record) map[string]Record {
	m := make(map[string]Record, len(recs))
	for _, r := range recs {
		m[r.Key()] = r
	}
	return m
}

// ErrMismatch: a resumed record was made from a different prompt than the run would use now (the
// file belongs to another configuration).
var ErrMismatch = errors.New("resume file was written with other settings")
