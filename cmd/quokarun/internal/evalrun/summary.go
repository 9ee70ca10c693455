package evalrun

import (
	"fmt"
	"slices"
	"strconv"
)

// Setting names one column of a comparison: dense or a QUOKA setting, at a chunk size.
type Setting struct {
	Name   string `json:"setting"`
	UBatch int    `json:"n_ubatch"`
}

// Label is the setting as shown in tables and plots.
func (s Setting) Label() string { return fmt.Sprintf("%s, ub %d", s.Name, s.UBatch) }

// Is reports whether r belongs to the setting.
func (s Setting) Is(r Record) bool { return r.Setting == s.Name && r.UBatch == s.UBatch }

// NIAHCell is the summary of one (setting, length, depth) cell of a NIAH grid.
type NIAHCell struct {
	Setting
	Length    int     `json:"length"`
	Depth     float64 `json:"depth"`
	Cases     int     `json:"cases"`
	Correct   int     `json:"correct"`
	Accuracy  float64 `json:"accuracy"`
	PrefillMS float64 `json:"prefill_ms"` // mean over the cases
	// SparseChunks is the mean number of chunks that took the QUOKA path (-1: not recorded).
	SparseChunks float64 `json:"sparse_chunks"`
}

// SummarizeNIAH groups NIAH records into cells, in the order of settings, lengths and depths.
func SummarizeNIAH(recs []Record, settings []Setting, lengths []int, depths []float64) []NIAHCell {
	var out []NIAHCell
	for _, s := range settings {
		for _, l := range lengths {
			for _, d := range depths {
				c := NIAHCell{Setting: s, Length: l, Depth: d}
				sparse, recorded := 0, true
				for _, r := range recs {
					if !s.Is(r) || r.Length != l || r.Depth == nil || *r.Depth != d {
						continue
					}
					c.Cases++
					if r.Correct {
						c.Correct++
					}
					c.PrefillMS += r.PrefillMS
					sparse += r.SparseChunks
					recorded = recorded && r.SparseChunks >= 0
				}
				if c.Cases > 0 {
					c.Accuracy = float64(c.Correct) / float64(c.Cases)
					c.PrefillMS /= float64(c.Cases)
					c.SparseChunks = float64(sparse) / float64(c.Cases)
				}
				if !recorded {
					c.SparseChunks = -1
				}
				out = append(out, c)
			}
		}
	}
	return out
}

// NIAHTable is the NIAH summary: one row per setting and length, correct/cases per depth, the
// accuracy over all depths and the mean prefill time.
func NIAHTable(cells []NIAHCell, depths []float64) Table {
	t := Table{Header: []string{"setting", "n_ubatch", "length"}, Right: []bool{false, true, true}, Data: cells}
	for _, d := range depths {
		t.Header = append(t.Header, fmt.Sprintf("d%g%%", d))
		t.Right = append(t.Right, true)
	}
	t.Header = append(t.Header, "accuracy", "prefill ms", "sparse chunks")
	t.Right = append(t.Right, true, true, true)
	for i := 0; i < len(cells); i += len(depths) {
		row := cells[i : i+len(depths)]
		cases, correct, ms, sparse := 0, 0, 0.0, 0.0
		cells := []string{row[0].Name, strconv.Itoa(row[0].UBatch), strconv.Itoa(row[0].Length)}
		for _, c := range row {
			cells = append(cells, fmt.Sprintf("%d/%d", c.Correct, c.Cases))
			cases += c.Cases
			correct += c.Correct
			ms += c.PrefillMS * float64(c.Cases)
			sparse += c.SparseChunks * float64(c.Cases)
		}
		acc, sp := "", ""
		if cases > 0 {
			acc = fmt.Sprintf("%.1f%%", 100*float64(correct)/float64(cases))
			ms /= float64(cases)
			sp = fmt.Sprintf("%.1f", sparse/float64(cases))
			if slices.ContainsFunc(row, func(c NIAHCell) bool { return c.SparseChunks < 0 }) {
				sp = "-"
			}
		}
		cells = append(cells, acc, fmt.Sprintf("%.1f", ms), sp)
		t.Rows = append(t.Rows, cells)
	}
	return t
}

// RulerScore is RULER's score of one task at one length under one setting.
type RulerScore struct {
	Setting
	Task   string  `json:"task"`
	Length int     `json:"length"`
	Cases  int     `json:"cases"`
	Score  float64 `json:"score"` // percent
}

// SummarizeRuler scores each (setting, task, length) as RULER does: the mean share of references
// found, in percent. Task "average" rows hold the mean over the tasks at each length.
func SummarizeRuler(recs []Record, settings []Setting, tasks []string, lengths []int) []RulerScore {
	var out []RulerScore
	for _, s := range settings {
		for _, l := range lengths {
			avg := RulerScore{Setting: s, Task: "average", Length: l}
			for _, task := range tasks {
				sc := RulerScore{Setting: s, Task: task, Length: l}
				for _, r := range recs {
					if s.Is(r) && r.Task == task && r.Length == l {
						sc.Cases++
						sc.Score += r.Score
					}
				}
				if sc.Cases > 0 {
					sc.Score = 100 * sc.Score / float64(sc.Cases)
					avg.Score += sc.Score
					avg.Cases++
				}
				out = append(out, sc)
			}
			if avg.Cases > 0 {
				avg.Score /= float64(avg.Cases)
			}
			out = append(out, avg)
		}
	}
	return out
}

// RulerTable is the RULER summary: one row per task and length, one score column per setting.
func RulerTable(scores []RulerScore, settings []Setting, tasks []string, lengths []int) Table {
	t := Table{Header: []string{"task", "length", "cases"}, Right: []bool{false, true, true}, Data: scores}
	for _, s := range settings {
		t.Header = append(t.Header, s.Label())
		t.Right = append(t.Right, true)
	}
	find := func(s Setting, task string, l int) RulerScore {
		for _, sc := range scores {
			if sc.Setting == s && sc.Task == task && sc.Length == l {
				return sc
			}
		}
		return RulerScore{}
	}
	for _, task := range append(slices.Clone(tasks), "average") {
		for _, l := range lengths {
			first := find(settings[0], task, l)
			cases := strconv.Itoa(first.Cases)
			if task == "average" {
				cases = fmt.Sprintf("%d tasks", first.Cases)
			}
			row := []string{task, strconv.Itoa(l), cases}
			for _, s := range settings {
				row = append(row, fmt.Sprintf("%.1f", find(s, task, l).Score))
			}
			t.Rows = append(t.Rows, row)
		}
	}
	return t
}
