package ruler

import "strings"

// MatchAll is RULER's string_match_all for one output: the share of the references that appear in
// it, ignoring case.
func MatchAll(output string, refs []string) float64 {
	if len(refs) == 0 {
		return 0
	}
	out := strings.ToLower(output)
	found := 0
	for _, r := range refs {
		if strings.Contains(out, strings.ToLower(r)) {
			found++
		}
	}
	return float64(found) / float64(len(refs))
}

// MatchPart is RULER's string_match_part for one output: 1 when any reference appears in it.
func MatchPart(output string, refs []string) float64 {
	out := strings.ToLower(output)
	for _, r := range refs {
		if strings.Contains(out, strings.ToLower(r)) {
			return 1
		}
	}
	return 0
}

// Score is RULER's score of a task: the mean of MatchAll over its cases, in percent.
func Score(outputs []string, refs [][]string) float64 {
	if len(outputs) == 0 {
		return 0
	}
	s := 0.0
	for i, o := range outputs {
		s += MatchAll(o, refs[i])
	}
	return 100 * s / float64(len(outputs))
}
