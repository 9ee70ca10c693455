package evalrun

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Scale maps an accuracy in [0, 1] to the NIAH colours: red (0) through yellow to green (1).
func Scale(v float64) color.RGBA {
	v = math.Max(0, math.Min(1, v))
	stops := []color.RGBA{{215, 48, 39, 255}, {253, 174, 97, 255}, {255, 255, 191, 255}, {166, 217, 106, 255}, {26, 152, 80, 255}}
	x := v * float64(len(stops)-1)
	i := min(int(x), len(stops)-2)
	f := x - float64(i)
	mix := func(a, b uint8) uint8 { return uint8(math.Round(float64(a)*(1-f) + float64(b)*f)) }
	a, b := stops[i], stops[i+1]
	return color.RGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 255}
}

// cellGrid draws a matrix of coloured cells with their values printed; row 0 is at the top.
type cellGrid struct {
	vals  [][]float64 // [row][col]; NaN: no data
	label func(r, c int) string
}

func (g cellGrid) Plot(c draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&c)
	rows := len(g.vals)
	sty := draw.TextStyle{Color: color.Black, Font: font.From(plot.DefaultFont, vg.Points(9)),
		XAlign: draw.XCenter, YAlign: draw.YCenter, Handler: plot.DefaultTextHandler}
	for r, row := range g.vals {
		for col, v := range row {
			y := float64(rows - 1 - r)
			x0, x1 := tx(float64(col)-0.5), tx(float64(col)+0.5)
			y0, y1 := ty(y-0.5), ty(y+0.5)
			fill := color.Color(color.RGBA{220, 220, 220, 255})
			if !math.IsNaN(v) {
				fill = Scale(v)
			}
			c.FillPolygon(fill, []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}})
			c.StrokeLines(draw.LineStyle{Color: color.White, Width: vg.Points(1)},
				[]vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}, {X: x0, Y: y0}})
			if g.label != nil {
				c.FillText(sty, vg.Point{X: (x0 + x1) / 2, Y: (y0 + y1) / 2}, g.label(r, col))
			}
		}
	}
}

func (g cellGrid) DataRange() (xmin, xmax, ymin, ymax float64) {
	cols := 0
	if len(g.vals) > 0 {
		cols = len(g.vals[0])
	}
	return -0.5, float64(cols) - 0.5, -0.5, float64(len(g.vals)) - 0.5
}

func ticks(labels []string, reversed bool) plot.ConstantTicks {
	var t plot.ConstantTicks
	for i, l := range labels {
		v := float64(i)
		if reversed {
			v = float64(len(labels) - 1 - i)
		}
		t = append(t, plot.Tick{Value: v, Label: l})
	}
	return t
}

// HeatmapPNG draws the classic NIAH picture into a PNG: one panel per setting, needle depth (rows,
// 0% at the top) against context length (columns), each cell coloured by its accuracy on one
// shared red-to-green scale (0-100%) and labelled with it, and a colour bar.
func HeatmapPNG(path, title string, cells []NIAHCell, settings []Setting, lengths []int, depths []float64) error {
	if len(settings) == 0 || len(lengths) == 0 || len(depths) == 0 {
		return fmt.Errorf("plot %s: nothing to draw", path)
	}
	var lx, dy []string
	for _, l := range lengths {
		lx = append(lx, lengthLabel(l))
	}
	for _, d := range depths {
		dy = append(dy, fmt.Sprintf("%g%%", d))
	}
	var panels []*plot.Plot
	for _, s := range settings {
		vals := make([][]float64, len(depths))
		cases := make([][]int, len(depths))
		for r := range vals {
			vals[r] = make([]float64, len(lengths))
			cases[r] = make([]int, len(lengths))
			for c := range vals[r] {
				vals[r][c] = math.NaN()
			}
		}
		for _, c := range cells {
			if c.Setting != s || c.Cases == 0 {
				continue
			}
			ci, ri := indexOf(lengths, c.Length), indexOfF(depths, c.Depth)
			if ci >= 0 && ri >= 0 {
				vals[ri][ci], cases[ri][ci] = c.Accuracy, c.Cases
			}
		}
		p := plot.New()
		p.Title.Text = s.Label()
		p.X.Label.Text = "context length (tokens)"
		p.Y.Label.Text = "needle depth"
		p.X.Tick.Marker = ticks(lx, false)
		p.Y.Tick.Marker = ticks(dy, true)
		p.Add(cellGrid{vals: vals, label: func(r, c int) string {
			if math.IsNaN(vals[r][c]) {
				return "-"
			}
			return fmt.Sprintf("%.0f%%", 100*vals[r][c])
		}})
		panels = append(panels, p)
	}

	panelW, h := 3.2*vg.Inch, 3.4*vg.Inch
	barW := 0.9 * vg.Inch
	w := panelW*vg.Length(len(panels)) + barW
	img := vgimg.New(w, h)
	dc := draw.New(img)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	titleH := vg.Points(30)
	head := draw.TextStyle{Color: color.Black, Font: font.From(plot.DefaultFont, vg.Points(12)),
		XAlign: draw.XCenter, YAlign: draw.YCenter, Handler: plot.DefaultTextHandler}
	dc.FillText(head, vg.Point{X: w / 2, Y: h - titleH/2}, title)
	body := draw.Crop(dc, 0, 0, 0, -titleH)
	grid := draw.Crop(body, 0, -barW, 0, 0)
	tiles := draw.Tiles{Rows: 1, Cols: len(panels), PadX: vg.Points(6), PadTop: vg.Points(2), PadBottom: vg.Points(2),
		PadLeft: vg.Points(4), PadRight: vg.Points(4)}
	canv := plot.Align([][]*plot.Plot{panels}, tiles, grid)
	for i, p := range panels {
		p.Draw(canv[0][i])
	}
	// colour bar
	bar := plot.New()
	bar.Title.Text = "accuracy"
	bar.HideX()
	var levels [][]float64
	var names []string
	for v := 100; v >= 0; v -= 10 {
		levels = append(levels, []float64{float64(v) / 100})
		names = append(names, fmt.Sprintf("%d%%", v))
	}
	bar.Y.Tick.Marker = ticks(names, true)
	bar.Add(cellGrid{vals: levels})
	bar.Draw(draw.Crop(body, w-barW+vg.Points(6), -vg.Points(4), vg.Points(40), -vg.Points(8)))

	return savePNG(path, img)
}

func savePNG(path string, img *vgimg.Canvas) error {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("write plot %s: %w", path, err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write plot %s: %w", path, err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("write plot %s: %w", path, err)
	}
	return f.Close()
}

// lengthLabel shows 1024 as "1k", 1500 as "1500".
func lengthLabel(n int) string {
	if n%1024 == 0 {
		return fmt.Sprintf("%dk", n/1024)
	}
	return fmt.Sprint(n)
}

func indexOf(xs []int, x int) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}

func indexOfF(xs []float64, x float64) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}

// shorten trims a label for plots.
func shorten(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	return strings.TrimSpace(string([]rune(s)[:n-1])) + "…"
}
