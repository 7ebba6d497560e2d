// Package simphone is the black phone in a terminal, for people without the
// hardware: keys lift and replace the handset, typed digits turn the
// simulated rotary dial (real pulse trains through line/sim at 10 pps),
// and the bell, tones, pulses, digits and state changes are printed one per
// line, so it works in a plain terminal, over ssh and in tmux.
//
// Wiring (the daemon's job): build the sim line with SimOptions, wrap the
// tone player with Tones, pass Observe to phone.RunnerOptions, then Run.
package simphone

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/kurodenwa/kurodenwa/pi-gateway/clock"
	"github.com/kurodenwa/kurodenwa/pi-gateway/line/sim"
	"github.com/kurodenwa/kurodenwa/pi-gateway/phone"
	"github.com/kurodenwa/kurodenwa/pi-gateway/pulse"
)

// Help is printed at the start and for "?".
const Help = `keys (then Enter):  h  lift / replace the handset    0-9  dial (rotary pulses)
                    f  hook flash                     s    status        ?  help    q  quit`

// Phone prints what happens and turns typed keys into handset actions.
type Phone struct {
	clk   clock.Clock
	start time.Time

	mu    sync.Mutex
	out   io.Writer
	line  *sim.Line
	enc   pulse.Encoding // the dial's, to show pulses per digit
	state phone.State
}

// New prints to out, stamping lines with the time since now on clk.
func New(out io.Writer, clk clock.Clock) *Phone {
	if clk == nil {
		clk = clock.Real{}
	}
	return &Phone{out: out, clk: clk, start: clk.Now(), state: phone.StateIdle}
}

// printf writes one stamped line.
func (p *Phone) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.printLocked(format, args...)
}

func (p *Phone) printLocked(format string, args ...any) {
	el := p.clk.Now().Sub(p.start).Truncate(100 * time.Millisecond)
	fmt.Fprintf(p.out, "[%6.1fs] %s\n", el.Seconds(), fmt.Sprintf(format, args...))
}

// SimOptions returns o with the hooks that show the bell, the speech path
// and the pulses; give the result to sim.New, then Attach the line.
func (p *Phone) SimOptions(o sim.Options) sim.Options {
	var last sim.Outputs
	o.OnChange = func(now sim.Outputs) {
		// Called with the line's lock held: print only, no calls back.
		switch {
		case now.Ringing && !last.Ringing:
			p.printf("🔔 RING RING  (bell ringing, cadence %v)", now.Cadence)
		case !now.Ringing && last.Ringing:
			p.printf("🔕 bell stops")
		}
		if now.Reversed != last.Reversed {
			if now.Reversed {
				p.printf("⇄ polarity reversed (answer signal)")
			} else {
				p.printf("⇄ polarity normal")
			}
		}
		if now.Talk != last.Talk {
			if now.Talk {
				p.printf("speech path connected")
			} else {
				p.printf("speech path open")
			}
		}
		last = now
	}
	p.mu.Lock()
	p.enc = o.Dial.Encoding
	p.mu.Unlock()
	return o
}

// Attach sets the line the keys act on.
func (p *Phone) Attach(l *sim.Line) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.line = l
}

// Observe is for phone.RunnerOptions.Observe: it prints digits with their
// pulse counts, flashes, network news and every state change.
func (p *Phone) Observe(ev phone.Event, st phone.State, _ []phone.Command) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev.Kind {
	case phone.OffHook:
		p.printLocked("handset off hook")
	case phone.OnHook:
		p.printLocked("handset on hook")
	case phone.Digit:
		n, _ := p.enc.Pulses(int(ev.Digit - '0'))
		p.printLocked("digit %c decoded (%d pulses)", ev.Digit, n)
	case phone.DigitError:
		p.printLocked("dialling error: %s", ev.Reason)
	case phone.Flash:
		p.printLocked("hook flash")
	case phone.Incoming:
		p.printLocked("incoming call from %s", ev.From)
	case phone.Alerting:
		p.printLocked("far end ringing")
	case phone.EarlyMedia:
		p.printLocked("far end sends audio (early media)")
	case phone.Answered:
		p.printLocked("far end answered")
	case phone.RemoteHangup:
		p.printLocked("far end hung up")
	case phone.Busy:
		p.printLocked("far end busy (%d)", ev.Status)
	case phone.Failed:
		p.printLocked("call failed (%d %s)", ev.Status, ev.Reason)
	}
	if st != p.state {
		p.printLocked("state: %v → %v", p.state, st)
		p.state = st
	}
}

// Tones wraps a tone player (nil for none) to print the tones played.
func (p *Phone) Tones(next phone.TonePlayer) phone.TonePlayer { return tones{p: p, next: next} }

type tones struct {
	p    *Phone
	next phone.TonePlayer
}

var toneNames = map[phone.Tone]string{
	phone.ToneDial:       "dial tone (発信音)",
	phone.ToneRingback:   "ringback (呼出音)",
	phone.ToneBusy:       "busy tone (話中音)",
	phone.ToneCongestion: "congestion tone",
	phone.ToneHangup:     "hang-up tone (終話音): please hang up",
	phone.ToneHowler:     "howler: please hang up",
}

func (t tones) PlayTone(tn phone.Tone) error {
	t.p.printf("♪ %s", toneNames[tn])
	if t.next != nil {
		return t.next.PlayTone(tn)
	}
	return nil
}

func (t tones) StopTone() error {
	t.p.printf("♪ (silence)")
	if t.next != nil {
		return t.next.StopTone()
	}
	return nil
}

// trains shows each digit's pulse train, e.g. "1 ▮, 3 ▮▮▮".
func (p *Phone) trains(digits string) string {
	p.mu.Lock()
	enc := p.enc
	p.mu.Unlock()
	var parts []string
	for _, d := range digits {
		n, _ := enc.Pulses(int(d - '0'))
		parts = append(parts, string(d)+" "+strings.Repeat("▮", n))
	}
	return strings.Join(parts, ", ")
}

// Run reads key lines from in until q, end of input or ctx ends.
func (p *Phone) Run(ctx context.Context, in io.Reader) error {
	p.printf("%s", Help)
	lines := make(chan string)
	errc := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
		errc <- sc.Err()
	}()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-errc:
			return err
		case s := <-lines:
			if quit := p.Keys(s); quit {
				return nil
			}
		}
	}
}

// Keys acts on one line of input at once; it reports whether q was typed.
func (p *Phone) Keys(s string) bool {
	p.mu.Lock()
	l := p.line
	p.mu.Unlock()
	if l == nil {
		p.printf("no line attached")
		return false
	}
	var digits strings.Builder
	flush := func() {
		if digits.Len() == 0 {
			return
		}
		if err := l.Dial(digits.String()); err != nil {
			p.printf("cannot dial: %v", err)
		} else {
			p.printf("dialling %s: %s", digits.String(), p.trains(digits.String()))
		}
		digits.Reset()
	}
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
			continue
		case r == 'h':
			flush()
			if l.OffHook() {
				p.printf("you replace the handset")
				l.Replace()
			} else {
				p.printf("you lift the handset")
				l.Lift()
			}
		case r == 'f':
			flush()
			if err := l.Flash(); err != nil {
				p.printf("cannot flash: %v", err)
			}
		case r == 's':
			flush()
			p.printf("line: %s", l.Status())
		case r == '?':
			flush()
			p.printf("%s", Help)
		case r == 'q':
			flush()
			return true
		case r == ' ' || r == '-':
		default:
			flush()
			p.printf("unknown key %q; ? for help", r)
		}
	}
	flush()
	return false
}
