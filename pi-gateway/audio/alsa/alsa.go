// Package alsa is the audio device for the USB sound card wired to the
// line's hybrid, at the card's own rate with our own polyphase resampling
// to and from 8 kHz. It has two drivers:
//
//   - "alsa-utils" (the default, and the only one in a CGO_ENABLED=0
//     build): alsa-utils' arecord and aplay run as child processes on the
//     configured PCM, moving raw S16_LE mono through pipes. A child that
//     dies is logged and restarted with back-off; meanwhile Read returns
//     silence and Write discards, both at the card's pace, so the daemon
//     keeps running and a call only loses sound.
//   - "miniaudio": full duplex in-process through miniaudio
//     (github.com/gen2brain/malgo, which loads libasound at run time). Its
//     cgo part builds only with the "alsa" build tag (go build -tags alsa);
//     without it Open says so.
//
// The buffering and resampling (duplex) are shared and tested without a
// card.
package alsa

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/kurodenwa/kurodenwa/pi-gateway/audio"
)

// Drivers.
const (
	DriverUtils     = "alsa-utils"
	DriverMiniaudio = "miniaudio"
)

// Config chooses the card and its buffering.
type Config struct {
	// Driver is DriverUtils (default) or DriverMiniaudio.
	Driver string
	// Device names the card; "" is the driver's default device. For
	// alsa-utils it is an ALSA PCM name as `arecord -L` lists them
	// ("default", "plughw:CARD=Device,DEV=0"). For miniaudio it is part of
	// the card's name as ALSA lists it (e.g. "USB").
	Device string
	// Rate is the card's sample rate: 48000 (default), 44100, 32000, 16000
	// or 8000.
	Rate int
	// Period is the card's period (default 10 ms) and Periods how many
	// make its buffer (default 3).
	Period  time.Duration
	Periods int
	// PlayoutFrames is how many 20 ms frames Write may queue before it
	// blocks (default 2).
	PlayoutFrames int
	// Null uses miniaudio's null backend instead of ALSA (tests, CI).
	Null bool
	// Arecord and Aplay are the alsa-utils programs (default: found on
	// PATH).
	Arecord, Aplay string

	env     []string                   // added to the children's environment (tests)
	onStart func(prog string, pid int) // called after each child starts (tests)
}

func (c *Config) defaults() error {
	if c.Driver == "" {
		c.Driver = DriverUtils
	}
	if c.Rate == 0 {
		c.Rate = 48000
	}
	if c.Period <= 0 {
		c.Period = 10 * time.Millisecond
	}
	if c.Periods <= 0 {
		c.Periods = 3
	}
	if c.PlayoutFrames <= 0 {
		c.PlayoutFrames = 2
	}
	var errs []error
	for _, fe := range c.Problems() {
		errs = append(errs, fe)
	}
	return errors.Join(errs...)
}

// FieldError is one Config field out of range. It is per field so that
// pi-gateway's config can name its own key (audio.alsa.<Field>).
type FieldError struct {
	Field string // driver, rate, period or periods
	Got   string // the value, as the message shows it
	Want  string // what is accepted
}

func (e FieldError) Error() string {
	return fmt.Sprintf("alsa: %s %s: want %s", e.Field, e.Got, e.Want)
}

// Problems checks c as given (Open fills zero fields with the defaults
// first): every field out of range, in field order, or none.
func (c Config) Problems() []FieldError {
	var fe []FieldError
	if c.Driver != DriverUtils && c.Driver != DriverMiniaudio {
		fe = append(fe, FieldError{"driver", fmt.Sprintf("%q", c.Driver), DriverUtils + " or " + DriverMiniaudio})
	}
	switch c.Rate {
	case 8000, 16000, 32000, 44100, 48000:
	default:
		fe = append(fe, FieldError{"rate", fmt.Sprint(c.Rate), "8000, 16000, 32000, 44100 or 48000"})
	}
	if c.Period < time.Millisecond || c.Period > 100*time.Millisecond {
		fe = append(fe, FieldError{"period", c.Period.String(), "1ms to 100ms"})
	}
	if c.Periods < 2 || c.Periods > 16 {
		fe = append(fe, FieldError{"periods", fmt.Sprint(c.Periods), "2 to 16"})
	}
	return fe
}

// ErrNotBuilt is Open's error for the miniaudio driver in a binary built
// without it.
var ErrNotBuilt = errors.New("alsa: the miniaudio driver is not in this binary (it needs -tags alsa and cgo); use driver alsa-utils")

// errStopped ends a wait because the child it served stopped.
var errStopped = errors.New("alsa: child stopped")

// ErrClosed is returned by Read and Write after Close.
var ErrClosed = errors.New("alsa: device closed")

// Device is the USB sound card as an audio.Device.
type Device struct {
	*duplex
	cfg   Config
	extra time.Duration // what the driver adds to the duplex's latency
	stop  func()        // the driver's shutdown
	utils *utils        // the alsa-utils driver's state; nil for miniaudio
	once  sync.Once
}

var _ audio.Device = (*Device)(nil)

// Open starts the card in full duplex, mono, 16 bit at cfg.Rate, with the
// configured driver. Its errors name the device and, for alsa-utils, the
// program's own error line.
func Open(cfg Config, log *slog.Logger) (*Device, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	d, err := newDuplex(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Driver == DriverMiniaudio {
		stop, err := openMiniaudio(cfg, d, log)
		if err != nil {
			return nil, err
		}
		return &Device{duplex: d, cfg: cfg, stop: stop}, nil
	}
	u, err := openUtils(cfg, d, log)
	if err != nil {
		return nil, err
	}
	return &Device{duplex: d, cfg: cfg, stop: u.stop, utils: u, extra: u.latency()}, nil
}

// Latency is the delay from Write to the earpiece: the playout queue at
// half full, what the driver holds (for alsa-utils the pipe and aplay's
// chunk), the card's buffer and both filters.
func (d *Device) Latency() time.Duration { return d.latency(d.cfg) + d.extra }

// Restarts is how many times the alsa-utils driver restarted arecord or
// aplay after one stopped (0 for miniaudio).
func (d *Device) Restarts() int {
	if d.utils == nil {
		return 0
	}
	return d.utils.restartCount()
}

// Close stops the card. With alsa-utils, aplay first plays what it was
// given (at most its buffer), then both children end.
func (d *Device) Close() error {
	d.once.Do(func() {
		d.duplex.close()
		d.stop()
	})
	return nil
}
