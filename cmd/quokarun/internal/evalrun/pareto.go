package evalrun

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// ParetoPoint is one setting of a sweep: its TTFT speedup over dense and its accuracy.
type ParetoPoint struct {
	Label    string
	Speedup  float64
	Accuracy float64 // in [0, 1]
	Dense    bool
}

// ParetoPNG draws accuracy against TTFT speedup, one labelled point per setting, dense points as
// black squares, QUOKA points as circles, the Pareto front (no other point is both faster and
// more accurate) joined by a line.
func ParetoPNG(path, title, accuracyLabel string, pts []ParetoPoint) error {
	if len(pts) == 0 {
		return fmt.Errorf("plot %s: nothing to draw", path)
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "TTFT speedup over dense (x)"
	p.Y.Label.Text = accuracyLabel
	p.Add(plotter.NewGrid())
	var dense, quoka plotter.XYs
	var labels plotter.XYLabels
	for _, q := range pts {
		xy := plotter.XY{X: q.Speedup, Y: 100 * q.Accuracy}
		if q.Dense {
			dense = append(dense, xy)
		} else {
			quoka = append(quoka, xy)
		}
		labels.XYs = append(labels.XYs, xy)
		labels.Labels = append(labels.Labels, " "+shorten(q.Label, 28))
	}
	front := Front(pts)
	if len(front) > 1 {
		var xys plotter.XYs
		for _, q := range front {
			xys = append(xys, plotter.XY{X: q.Speedup, Y: 100 * q.Accuracy})
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return err
		}
		l.Color = color.RGBA{120, 120, 200, 255}
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(l)
		p.Legend.Add("Pareto front", l)
	}
	for _, s := range []struct {
		xys   plotter.XYs
		name  string
		shape draw.GlyphDrawer
		col   color.Color
	}{{dense, "dense", draw.BoxGlyph{}, color.Black}, {quoka, "QUOKA", draw.CircleGlyph{}, color.RGBA{26, 152, 80, 255}}} {
		if len(s.xys) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(s.xys)
		if err != nil {
			return err
		}
		sc.GlyphStyle = draw.GlyphStyle{Shape: s.shape, Color: s.col, Radius: vg.Points(4)}
		p.Add(sc)
		p.Legend.Add(s.name, sc)
	}
	lab, err := plotter.NewLabels(labels)
	if err != nil {
		return err
	}
	p.Add(lab)
	p.Legend.Top = false
	p.Legend.Left = true
	p.X.Min = 0
	for _, q := range pts {
		p.X.Max = max(p.X.Max, 1.2*q.Speedup)
	}
	p.Y.Min, p.Y.Max = 0, 105
	img := vgimg.New(7*vg.Inch, 4.5*vg.Inch)
	dc := draw.New(img)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	p.Draw(dc)
	return savePNG(path, img)
}

// Front is the Pareto front of pts, by increasing speedup: the points that no other point beats on
// both speedup and accuracy.
func Front(pts []ParetoPoint) []ParetoPoint {
	var out []ParetoPoint
	for i, a := range pts {
		dominated := false
		for j, b := range pts {
			if i != j && b.Speedup >= a.Speedup && b.Accuracy >= a.Accuracy &&
				(b.Speedup > a.Speedup || b.Accuracy > a.Accuracy) {
				dominated = true
				break
			}
		}
		if !dominated {
			out = append(out, a)
		}
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Speedup < out[j-1].Speedup; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
