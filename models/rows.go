package models

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// SyntheticWarning is the line printed for files written by Synth.
const SyntheticWarning = "WARNING: synthetic random-weight model: produces noise, for benchmarking only"

// syntheticWarningKey is the Rows key of the SyntheticWarning row.
const syntheticWarningKey = "WARNING"

// Rows returns the key/value lines `quokarun info` prints for the model,
// in display order. For a synthetic file the last row is
// {"WARNING", "synthetic random-weight model: ..."}, which printed as
// "key: value" reads as SyntheticWarning.
func (i *Info) Rows() [][2]string {
	rows := [][2]string{
		{"File", i.Path},
	}
	if i.Name != "" {
		rows = append(rows, [2]string{"Name", i.Name})
	}
	rows = append(rows,
		[2]string{"Architecture", i.Architecture},
		[2]string{"File type", i.FileType},
		[2]string{"Layers", strconv.Itoa(i.Layers)},
		[2]string{"Heads", strconv.Itoa(i.Heads)},
		[2]string{"KV heads", strconv.Itoa(i.KVHeads)},
		[2]string{"Head dim", strconv.Itoa(i.HeadDim)},
		[2]string{"GQA ratio", gqaRatio(i.Heads, i.KVHeads)},
		[2]string{"Context length", strconv.Itoa(i.ContextLength)},
		[2]string{"Vocab size", strconv.Itoa(i.VocabSize)},
		[2]string{"Embedding", strconv.Itoa(i.EmbeddingLength)},
		[2]string{"FFN", strconv.Itoa(i.FeedForwardLength)},
	)
	if i.RopeFreqBase != 0 {
		rows = append(rows, [2]string{"RoPE freq base", strconv.FormatFloat(i.RopeFreqBase, 'g', -1, 64)})
	}
	if i.SlidingWindow > 0 {
		rows = append(rows, [2]string{"Sliding window", fmt.Sprintf("%d (sliding-window layers stay dense with QUOKA)", i.SlidingWindow)})
	}
	if i.Experts > 0 {
		rows = append(rows, [2]string{"Experts", fmt.Sprintf("%d (%d per token)", i.Experts, i.ExpertsUsed)})
	}
	if i.KVLoraRank > 0 {
		rows = append(rows, [2]string{"Latent KV (MLA)", fmt.Sprintf("%d (QUOKA selects among the latent keys)", i.KVLoraRank)})
	}
	rows = append(rows,
		[2]string{"Tensors", strconv.Itoa(i.TensorCount)},
		[2]string{"Tensor types", tensorTypes(i.TensorTypes)},
		[2]string{"Parameters", fmt.Sprintf("%s (%d)", HumanCount(i.Parameters), i.Parameters)},
		[2]string{"File size", fmt.Sprintf("%s (%d bytes)", HumanBytes(i.FileSize), i.FileSize)},
	)
	if i.ChatTemplate != "" {
		rows = append(rows, [2]string{"Chat template", fmt.Sprintf("yes (%d chars)", len(i.ChatTemplate))})
	} else {
		rows = append(rows, [2]string{"Chat template", "no"})
	}
	if i.Synthetic {
		preset := i.SyntheticPreset
		if preset == "" {
			preset = "unknown"
		}
		rows = append(rows,
			[2]string{"Synthetic preset", preset},
			[2]string{syntheticWarningKey, strings.TrimPrefix(SyntheticWarning, syntheticWarningKey+": ")},
		)
	}
	return rows
}

// String renders Rows as aligned "key: value" lines; the synthetic
// warning, when present, is printed unaligned as SyntheticWarning.
func (i *Info) String() string {
	rows := i.Rows()
	width := 0
	for _, r := range rows {
		width = max(width, len(r[0])+1)
	}
	var b strings.Builder
	for _, r := range rows {
		if r[0] == syntheticWarningKey {
			fmt.Fprintf(&b, "%s: %s\n", r[0], r[1])
			continue
		}
		fmt.Fprintf(&b, "%-*s %s\n", width, r[0]+":", r[1])
	}
	return b.String()
}

// gqaRatio formats the number of query heads per KV head, e.g. "4:1".
func gqaRatio(heads, kvHeads int) string {
	switch {
	case heads <= 0 || kvHeads <= 0:
		return "n/a"
	case heads%kvHeads == 0:
		return fmt.Sprintf("%d:1", heads/kvHeads)
	default:
		return fmt.Sprintf("%.2f:1", float64(heads)/float64(kvHeads))
	}
}

// tensorTypes formats type counts as "F16 x112, F32 x33", most frequent first.
func tensorTypes(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int {
		if c := cmp.Compare(m[b], m[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	parts := make([]string, len(names))
	for k, name := range names {
		parts[k] = fmt.Sprintf("%s x%d", name, m[name])
	}
	return strings.Join(parts, ", ")
}

// HumanBytes formats a byte count with binary units, e.g. "2.30 GiB".
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.2f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// HumanCount formats a parameter count with decimal units, e.g. "1.24B".
func HumanCount(n int64) string {
	switch {
	case n >= 1e12:
		return fmt.Sprintf("%.2fT", float64(n)/1e12)
	case n >= 1e9:
		return fmt.Sprintf("%.2fB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.2fM", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.2fK", float64(n)/1e3)
	default:
		return strconv.FormatInt(n, 10)
	}
}
