package benchfmt

import (
	"fmt"
	"image/color"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Plot draws time to first token against prompt length, one line per QUOKA setting, into a PNG.
func Plot(path, title string, rows []Row) error {
	series := map[string]plotter.XYs{}
	var order []string
	for _, r := range rows {
		name := "dense"
		if !r.Dense() {
			name = "QUOKA B_SA " + r.Quoka
		}
		if _, ok := series[name]; !ok {
			order = append(order, name)
		}
		series[name] = append(series[name], plotter.XY{X: float64(r.Prompt), Y: r.TTFTMean / 1e3})
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "prompt tokens"
	p.Y.Label.Text = "time to first token (s)"
	p.Add(plotter.NewGrid())
	for i, name := range order {
		pts := series[name]
		sort.Slice(pts, func(a, b int) bool { return pts[a].X < pts[b].X })
		line, points, err := plotter.NewLinePoints(pts)
		if err != nil {
			return fmt.Errorf("plot %s: %w", name, err)
		}
		c := plotutil.Color(i)
		if name == "dense" {
			c = color.RGBA{R: 80, G: 80, B: 80, A: 255}
		}
		line.Color, points.Color = c, c
		line.Width = vg.Points(1.5)
		points.Shape = plotutil.Shape(i)
		p.Add(line, points)
		p.Legend.Add(name, line, points)
	}
	p.Legend.Top = true
	p.Legend.Left = true
	if err := p.Save(7*vg.Inch, 4.5*vg.Inch, path); err != nil {
		return fmt.Errorf("write plot %s: %w", path, err)
	}
	return nil
}
