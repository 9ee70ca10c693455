package evalrun

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Table is a summary table: header and cells for markdown and CSV, Data for JSON.
type Table struct {
	Header []string
	// Right marks right-aligned (numeric) columns.
	Right []bool
	Rows  [][]string
	// Data is what the JSON output encodes (the typed rows).
	Data any
}

// CheckFormat reports whether Write knows format.
func CheckFormat(format string) error {
	switch format {
	case "", "md", "markdown", "csv", "json":
		return nil
	}
	return fmt.Errorf("unknown output format %q (md, csv, json)", format)
}

// Write writes the table as "md" (default), "csv" or "json".
func (t Table) Write(w io.Writer, format string) error {
	switch format {
	case "csv":
		cw := csv.NewWriter(w)
		_ = cw.Write(t.Header)
		_ = cw.WriteAll(t.Rows)
		return cw.Error()
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(t.Data)
	case "", "md", "markdown":
		return t.markdown(w)
	}
	return CheckFormat(format)
}

func (t Table) markdown(w io.Writer) error {
	width := make([]int, len(t.Header))
	for i, h := range t.Header {
		width[i] = len([]rune(h))
	}
	for _, r := range t.Rows {
		for i, c := range r {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	right := func(i int) bool { return i < len(t.Right) && t.Right[i] }
	line := func(cells []string) string {
		var b strings.Builder
		b.WriteString("|")
		for i, c := range cells {
			pad := strings.Repeat(" ", width[i]-len([]rune(c)))
			if right(i) {
				b.WriteString(" " + pad + c + " |")
			} else {
				b.WriteString(" " + c + pad + " |")
			}
		}
		return b.String()
	}
	var sep strings.Builder
	sep.WriteString("|")
	for i := range t.Header {
		if right(i) {
			sep.WriteString(" " + strings.Repeat("-", max(width[i]-1, 1)) + ": |")
		} else {
			sep.WriteString(" " + strings.Repeat("-", width[i]) + " |")
		}
	}
	lines := []string{line(t.Header), sep.String()}
	for _, r := range t.Rows {
		lines = append(lines, line(r))
	}
	_, err := fmt.Fprintln(w, strings.Join(lines, "\n"))
	return err
}
