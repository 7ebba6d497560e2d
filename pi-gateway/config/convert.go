package config

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/kurodenwa/kurodenwa/internal/tone"
	"github.com/kurodenwa/kurodenwa/pi-gateway/audio"
	"github.com/kurodenwa/kurodenwa/pi-gateway/audio/alsa"
	"github.com/kurodenwa/kurodenwa/pi-gateway/audio/file"
	"github.com/kurodenwa/kurodenwa/pi-gateway/audio/silence"
	"github.com/kurodenwa/kurodenwa/pi-gateway/clock"
	"github.com/kurodenwa/kurodenwa/pi-gateway/line"
	"github.com/kurodenwa/kurodenwa/pi-gateway/line/gpio"
	"github.com/kurodenwa/kurodenwa/pi-gateway/line/serial"
	"github.com/kurodenwa/kurodenwa/pi-gateway/line/sim"
	"github.com/kurodenwa/kurodenwa/pi-gateway/phone"
	"github.com/kurodenwa/kurodenwa/pi-gateway/pulse"
)

// PulseConfig is the decoder's configuration for the pulse settings.
func (c *Config) PulseConfig() (pulse.Config, error) {
	pc := pulse.DefaultJapan()
	switch c.Pulse.Standard {
	case "sweden":
		pc.Encoding = pulse.EncodingSweden
	case "newzealand":
		pc.Encoding = pulse.EncodingNewZealand
	}
	pc.FlashMin, pc.FlashMax = c.Pulse.FlashMin, c.Pulse.FlashMax
	return pc, pc.Validate()
}

// Zone is the tone zone.
func (c *Config) Zone() (tone.Zone, error) { return tone.Lookup(c.Phone.ToneZone) }

// PhoneConfig is the call logic's configuration.
func (c *Config) PhoneConfig() (phone.Config, error) {
	z, err := c.Zone()
	if err != nil {
		return phone.Config{}, err
	}
	pc := phone.DefaultConfig()
	pc.DigitMap = c.Phone.DigitMap
	pc.RingCadence = nil
	for _, ms := range z.RingCadence {
		pc.RingCadence = append(pc.RingCadence, time.Duration(ms)*time.Millisecond)
	}
	pc.FlashDigit = 0
	if c.Phone.FlashDigit != "" {
		pc.FlashDigit = c.Phone.FlashDigit[0]
	}
	pc.ReverseOnAnswer = c.Phone.ReverseOnAnswer
	pc.ErrorTone = phone.ToneCongestion
	if c.Phone.ErrorTone == "howler" {
		pc.ErrorTone = phone.ToneHowler
	}
	pc.FirstDigitTimeout = c.Phone.FirstDigitTimeout
	pc.InterDigitTimeout = c.Phone.InterDigitTimeout
	pc.IncompleteTimeout = c.Phone.IncompleteTimeout
	return pc, nil
}

func (p Pin) gpio() gpio.Pin { return gpio.Pin{Chip: p.Chip, Line: p.Line, ActiveLow: p.ActiveLow} }

// GPIOConfig is the GPIO backend's wiring.
func (c *Config) GPIOConfig() (gpio.Config, error) {
	pc, err := c.PulseConfig()
	if err != nil {
		return gpio.Config{}, err
	}
	g := c.Line.GPIO
	bias := map[string]gpio.Bias{"up": gpio.BiasPullUp, "down": gpio.BiasPullDown}[g.HookPull]
	return gpio.Config{
		Hook: g.Hook.gpio(), HookPull: bias, Ringer: g.Ringer.gpio(), Reverse: g.Reverse.gpio(), Talk: g.Talk.gpio(),
		Pulse: pc,
	}, nil
}

// SerialConfig is the Arduino link's settings.
func (c *Config) SerialConfig() serial.Config {
	return serial.Config{Port: c.Line.Serial.Port, Baud: c.Line.Serial.Baud, Watchdog: c.Line.Serial.Watchdog}
}

// OpenLine opens the configured line backend. For "sim" it is a
// *sim.Line, which the terminal phone drives.
func (c *Config) OpenLine(ctx context.Context, clk clock.Clock, log *slog.Logger) (line.Line, error) {
	pc, err := c.PulseConfig()
	if err != nil {
		return nil, fmt.Errorf("pulse: %w", err)
	}
	switch c.Line.Backend {
	case "gpio":
		gc, _ := c.GPIOConfig()
		return gpio.New(gc, gpio.Options{Clock: clk, Logger: log})
	case "serial":
		return serial.New(ctx, c.SerialConfig(), serial.Options{Clock: clk, Logger: log})
	case "sim":
		return sim.New(sim.Options{Pulse: pc, Clock: clk})
	}
	return nil, fmt.Errorf("line.backend %q: want gpio, serial or sim", c.Line.Backend)
}

// OpenAudio opens the configured audio device.
func (c *Config) OpenAudio(clk clock.Clock, log *slog.Logger) (audio.Device, error) {
	a := c.Audio
	switch a.Backend {
	case "alsa":
		return alsa.Open(c.alsaConfig(), log)
	case "file":
		return file.Open(file.Config{Input: a.File.Input, Loop: a.File.Loop, Output: a.File.Output, Realtime: a.File.Realtime}, clk)
	case "silence":
		return silence.New(clk), nil
	}
	return nil, fmt.Errorf("audio.backend %q: want alsa, file or silence", a.Backend)
}

// alsaConfig is audio.alsa as the card driver takes it.
func (c *Config) alsaConfig() alsa.Config {
	a := c.Audio.ALSA
	return alsa.Config{Driver: a.Driver, Device: a.Device, Rate: a.Rate, Period: a.Period, Periods: a.Periods}
}

// RTPPortRange returns the first and last RTP port.
func (c *Config) RTPPortRange() (first, last int) {
	lo, hi, _ := strings.Cut(c.SIP.RTPPorts, "-")
	first, _ = strconv.Atoi(lo)
	last, _ = strconv.Atoi(hi)
	return first, last
}

// AuthUser is the digest user name: auth_user, else user.
func (c *Config) AuthUser() string {
	if c.SIP.AuthUser != "" {
		return c.SIP.AuthUser
	}
	return c.SIP.User
}

// Domain is the host of the address of record: domain, else the
// registrar's host.
func (c *Config) Domain() string {
	if c.SIP.Domain != "" {
		return c.SIP.Domain
	}
	if h, _, err := net.SplitHostPort(c.SIP.Registrar); err == nil {
		return h
	}
	return c.SIP.Registrar
}

// AOR is the address of record the gateway registers, e.g.
// sip:blackphone@pbx.local.
func (c *Config) AOR() string { return "sip:" + c.SIP.User + "@" + c.Domain() }
