package gpio

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/warthog618/go-gpiocdev"
)

// CharDev opens lines on the kernel's GPIO character devices
// (/dev/gpiochip*).
type CharDev struct {
	// Consumer is the name the kernel shows as the lines' user (default
	// "kurodenwa").
	Consumer string
}

func (c CharDev) consumer() string {
	if c.Consumer == "" {
		return "kurodenwa"
	}
	return c.Consumer
}

// ChipInfo describes one GPIO chip, for resolving pins.
type ChipInfo struct {
	Name  string   // gpiochip0
	Label string   // pinctrl-bcm2711
	Lines []string // line names by offset; "" if unnamed
}

// ErrNotFound is wrapped when a chip or a line does not exist.
var ErrNotFound = errors.New("not found")

// Resolve finds pin among chips: the chip by name or label (or every chip
// when pin.Chip is empty), the line by name or decimal offset.
func Resolve(pin Pin, chips []ChipInfo) (chip string, offset int, err error) {
	var cands []ChipInfo
	for _, c := range chips {
		if pin.Chip == "" || c.Name == pin.Chip || c.Label == pin.Chip {
			cands = append(cands, c)
		}
	}
	if len(cands) == 0 {
		return "", 0, fmt.Errorf("chip %q %w (have: %s)", pin.Chip, ErrNotFound, describeChips(chips))
	}
	if n, err := strconv.Atoi(pin.Line); err == nil {
		if pin.Chip == "" {
			return "", 0, fmt.Errorf("line offset %d needs a chip", n)
		}
		c := cands[0]
		if n < 0 || n >= len(c.Lines) {
			return "", 0, fmt.Errorf("line offset %d %w on %s (it has %d lines)", n, ErrNotFound, c.Name, len(c.Lines))
		}
		return c.Name, n, nil
	}
	for _, c := range cands {
		for off, name := range c.Lines {
			if name != "" && name == pin.Line {
				return c.Name, off, nil
			}
		}
	}
	where := "on any chip"
	if pin.Chip != "" {
		where = "on " + pin.Chip
	}
	return "", 0, fmt.Errorf("line %q %w %s", pin.Line, ErrNotFound, where)
}

func describeChips(chips []ChipInfo) string {
	if len(chips) == 0 {
		return "no GPIO chips; is this a Pi, and may this user open /dev/gpiochip*?"
	}
	var parts []string
	for _, c := range chips {
		parts = append(parts, fmt.Sprintf("%s [%s]", c.Name, c.Label))
	}
	return strings.Join(parts, ", ")
}

// Chips lists the system's GPIO chips and their line names.
func (CharDev) Chips() ([]ChipInfo, error) {
	var out []ChipInfo
	for _, name := range gpiocdev.Chips() {
		c, err := gpiocdev.NewChip(name)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", name, err)
		}
		info := ChipInfo{Name: c.Name, Label: c.Label, Lines: make([]string, c.Lines())}
		for off := range info.Lines {
			if li, err := c.LineInfo(off); err == nil {
				info.Lines[off] = li.Name
			}
		}
		_ = c.Close()
		out = append(out, info)
	}
	return out, nil
}

func (c CharDev) resolve(pin Pin) (string, int, error) {
	chips, err := c.Chips()
	if err != nil {
		return "", 0, err
	}
	return Resolve(pin, chips)
}

type cdevLine struct{ l *gpiocdev.Line }

func (c cdevLine) Active() (bool, error) {
	v, err := c.l.Value()
	return v == 1, err
}

func (c cdevLine) Set(active bool) error {
	v := 0
	if active {
		v = 1
	}
	return c.l.SetValue(v)
}

func (c cdevLine) Close() error { return c.l.Close() }

// Input requests pin as an input with both edges and kernel timestamps.
func (c CharDev) Input(pin Pin, bias Bias, onEdge func(bool, time.Duration)) (Input, error) {
	chip, off, err := c.resolve(pin)
	if err != nil {
		return nil, err
	}
	opts := []gpiocdev.LineReqOption{
		gpiocdev.WithConsumer(c.consumer()), gpiocdev.AsInput, gpiocdev.WithBothEdges,
		gpiocdev.WithMonotonicEventClock,
		gpiocdev.WithEventHandler(func(e gpiocdev.LineEvent) {
			onEdge(e.Type == gpiocdev.LineEventRisingEdge, e.Timestamp)
		}),
	}
	if pin.ActiveLow {
		opts = append(opts, gpiocdev.AsActiveLow)
	}
	switch bias {
	case BiasPullUp:
		opts = append(opts, gpiocdev.WithPullUp)
	case BiasPullDown:
		opts = append(opts, gpiocdev.WithPullDown)
	}
	l, err := gpiocdev.RequestLine(chip, off, opts...)
	if err != nil {
		return nil, fmt.Errorf("request %s line %d: %w", chip, off, err)
	}
	return cdevLine{l}, nil
}

// Output requests pin as an output, initially inactive.
func (c CharDev) Output(pin Pin) (Output, error) {
	chip, off, err := c.resolve(pin)
	if err != nil {
		return nil, err
	}
	opts := []gpiocdev.LineReqOption{gpiocdev.WithConsumer(c.consumer()), gpiocdev.AsOutput(0)}
	if pin.ActiveLow {
		opts = append(opts, gpiocdev.AsActiveLow)
	}
	l, err := gpiocdev.RequestLine(chip, off, opts...)
	if err != nil {
		return nil, fmt.Errorf("request %s line %d: %w", chip, off, err)
	}
	return cdevLine{l}, nil
}
