package call

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kurodenwa/kurodenwa/internal/route"
	"github.com/kurodenwa/kurodenwa/internal/site"
)

// Router is the number analysis the engine asks (route.Router).
type Router interface {
	Route(route.Request) route.Decision
}

// Ringback is how a caller who is not answered learns that the target rings.
type Ringback uint8

// Ringback modes.
const (
	// RingbackIndicate sends a ringing indication (SIP 180); the caller's
	// own equipment makes the ringback tone.
	RingbackIndicate Ringback = iota
	// RingbackTone opens early media (183) and plays the zone's ring tone.
	RingbackTone
)

func (r Ringback) String() string {
	if r == RingbackTone {
		return "tone"
	}
	return "indicate"
}

// Phone is what the engine needs to know about one of our endpoints.
type Phone struct {
	// Number is the phone's extension number: its caller ID towards the
	// party it dials after a hook flash, and its number in call records.
	Number string
	// HangupTone keeps the line up with the hang-up tone after the far end
	// leaves (site Extension.HangupTone), and is also what the phone hears
	// when an outgoing call is not answered.
	HangupTone bool
	// Queue makes callers wait, answered, with music on hold while the
	// phone is in a call, instead of ringing it (a rotary phone has no
	// call waiting).
	Queue bool
	// FlashDigit is the DTMF digit the gateway sends for a hook flash; ""
	// disables hook-flash handling for the phone.
	FlashDigit string
	// Refers marks a softphone, which transfers by SIP REFER: while the
	// engine carries out transfers (Engine.SetAppTransfers), its channels
	// get PJSIP_TRANSFER_HANDLING(ari-only).
	Refers bool
}

// Destination is a fixed place to ring, such as the fallback after no
// answer.
type Destination struct {
	Name          string
	Endpoints     []string
	Strategy      string // site.StrategyRingAll or site.StrategyInOrder
	MemberTimeout time.Duration
	Timeout       time.Duration
}

func (d Destination) decision() route.Decision {
	return route.Decision{
		Kind: route.Local, Target: d.Name, Endpoints: d.Endpoints, Strategy: d.Strategy,
		MemberTimeout: d.MemberTimeout, Timeout: d.Timeout, Reason: "no answer: fallback to " + d.Name,
	}
}

// NoAnswerAction is what an inbound caller gets when nobody answers.
type NoAnswerAction struct {
	// Fallback, if set, is rung once before giving up.
	Fallback *Destination
	// Announcement is a sound file name played before hanging up; ""
	// hangs up at once.
	Announcement string
}

// QueueConfig governs callers waiting for a busy phone.
type QueueConfig struct {
	// MaxLength is how many callers may wait for one phone.
	MaxLength int
	// MaxWait bounds a caller's wait; then it hears busy.
	MaxWait time.Duration
	// Retry is the pause before ringing again a phone that answered busy
	// although it was not in a call (off hook, dialling).
	Retry time.Duration
	// PositionAnnouncement, if set, is a sound file played on entry,
	// followed by the caller's position as a number.
	PositionAnnouncement string
}

// Config is the engine's configuration. Zero durations take defaults.
type Config struct {
	// IDPrefix starts every ID the engine makes; make it unique per run
	// (Asterisk keeps channels across an application restart).
	IDPrefix string
	// ToneZone names the indications zone of every tone.
	ToneZone string
	// Phones describes our endpoints by PJSIP endpoint name.
	Phones map[string]Phone

	InboundRingback  Ringback
	OutboundRingback Ringback
	// PassEarlyMedia bridges an unanswered caller with a dialled leg that
	// sends early media (183), so the far network's tones and
	// announcements reach the caller.
	PassEarlyMedia bool

	// RingTimeout bounds ringing when a route gives no timeout.
	RingTimeout time.Duration
	NoAnswer    NoAnswerAction
	Queue       QueueConfig
	// Announcements replaces a refusal's tone by a sound file, by Q.850
	// cause (1 unallocated, 3 no route, 17 busy, 21 rejected, 28 invalid
	// number, 34 congestion, …).
	Announcements map[int]string

	// ToneLimit bounds busy and congestion tones and announcements.
	ToneLimit time.Duration
	// HangupToneLimit bounds the hang-up tone (site hangup_tone_limit).
	HangupToneLimit time.Duration

	// FirstDigitTimeout and InterDigitTimeout bound dialling after a hook
	// flash; a number that is not an exact local number completes when
	// the inter-digit timer fires.
	FirstDigitTimeout time.Duration
	InterDigitTimeout time.Duration
	// HoldLimit bounds a hold after a hook flash; then the held party is
	// reconnected.
	HoldLimit time.Duration
	// TransferGrace bounds the wait for the channel that replaces a party
	// transferred away by Asterisk.
	TransferGrace time.Duration
	// MOHClass is the music-on-hold class of holding bridges.
	MOHClass string
	// KeepEnded is how many ended call records Recent keeps.
	KeepEnded int
}

// DefaultFlashDigit is the DTMF digit pi-gateway sends for a hook flash.
const DefaultFlashDigit = "A"

// ConfigFromSite derives a configuration from a validated site: tone zone,
// timeouts, and each extension's phone (black phones queue callers, take
// hook flashes and, by their setting, the hang-up tone). Fields the site
// does not describe keep their defaults.
func ConfigFromSite(s *site.Site) Config {
	c := s.Calls
	cfg := Config{
		ToneZone:         s.Exchange.ToneZone,
		RingTimeout:      s.Exchange.RingTimeout,
		HangupToneLimit:  s.Exchange.HangupToneLimit,
		PassEarlyMedia:   c.PassEarlyMedia,
		InboundRingback:  ringback(c.InboundRingback),
		OutboundRingback: ringback(c.OutboundRingback),
		ToneLimit:        c.ToneLimit,
		HoldLimit:        c.HoldLimit,
		MOHClass:         c.MOHClass,
		Queue: QueueConfig{
			MaxLength: c.Queue.MaxLength, MaxWait: c.Queue.MaxWait, PositionAnnouncement: c.Queue.PositionAnnouncement,
		},
		NoAnswer: NoAnswerAction{Announcement: c.NoAnswer.Announcement},
		Phones:   make(map[string]Phone, len(s.Extensions)),
	}
	flash := c.FlashDigit
	if flash == "" {
		flash = DefaultFlashDigit
	}
	for _, ext := range s.Extensions {
		p := Phone{Number: ext.Number, HangupTone: ext.HangupTone}
		switch ext.Kind {
		case site.KindBlackPhone:
			p.Queue = true
			p.FlashDigit = flash
		case site.KindSoftphone:
			p.Refers = true
		}
		cfg.Phones[ext.Endpoint()] = p
	}
	if len(c.Announcements) > 0 {
		cfg.Announcements = make(map[int]string, len(c.Announcements))
		for cause, sound := range c.Announcements {
			if n, err := strconv.Atoi(cause); err == nil { // validated by site
				cfg.Announcements[n] = sound
			}
		}
	}
	if name := c.NoAnswer.Destination; name != "" {
		cfg.NoAnswer.Fallback = destination(s, name)
	}
	return cfg
}

func ringback(mode string) Ringback {
	if mode == site.RingbackTone {
		return RingbackTone
	}
	return RingbackIndicate
}

// destination describes an extension or ring group of the site.
func destination(s *site.Site, name string) *Destination {
	if e, ok := s.Extensions[name]; ok {
		return &Destination{Name: name, Endpoints: []string{e.Endpoint()}, Strategy: site.StrategyRingAll, Timeout: s.Exchange.RingTimeout}
	}
	g, ok := s.RingGroups[name]
	if !ok {
		return nil
	}
	d := &Destination{Name: name, Strategy: g.Strategy, MemberTimeout: g.MemberTimeout, Timeout: g.MemberTimeout}
	for _, m := range g.Members {
		d.Endpoints = append(d.Endpoints, s.Extensions[m].Endpoint())
	}
	return d
}

// withDefaults fills zero values and checks the rest.
func (c Config) withDefaults() (Config, error) {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if c.IDPrefix == "" {
		c.IDPrefix = "kd"
	}
	if c.ToneZone == "" {
		c.ToneZone = "jp"
	}
	def(&c.RingTimeout, 60*time.Second)
	def(&c.ToneLimit, 20*time.Second)
	def(&c.HangupToneLimit, 60*time.Second)
	def(&c.FirstDigitTimeout, 10*time.Second)
	def(&c.InterDigitTimeout, 4*time.Second)
	def(&c.HoldLimit, 15*time.Minute)
	def(&c.TransferGrace, 10*time.Second)
	def(&c.Queue.MaxWait, 5*time.Minute)
	def(&c.Queue.Retry, 5*time.Second)
	if c.Queue.MaxLength <= 0 {
		c.Queue.MaxLength = 3
	}
	if c.MOHClass == "" {
		c.MOHClass = "default"
	}
	if c.KeepEnded <= 0 {
		c.KeepEnded = 64
	}
	var errs []error
	if strings.ContainsAny(c.IDPrefix, "/?#& ") {
		errs = append(errs, fmt.Errorf("id prefix %q: must not contain / ? # & or spaces", c.IDPrefix))
	}
	if strings.ContainsAny(c.ToneZone, ";,/ ") {
		errs = append(errs, fmt.Errorf("tone zone %q is not a zone name", c.ToneZone))
	}
	for ep, p := range c.Phones {
		if p.FlashDigit != "" && (len(p.FlashDigit) != 1 || !strings.Contains("0123456789*#ABCD", p.FlashDigit)) {
			errs = append(errs, fmt.Errorf("phone %s: flash digit %q is not one DTMF digit", ep, p.FlashDigit))
		}
	}
	if f := c.NoAnswer.Fallback; f != nil && len(f.Endpoints) == 0 {
		errs = append(errs, fmt.Errorf("no-answer fallback %q has no endpoints", f.Name))
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("call: invalid config: %w", err)
	}
	return c, nil
}
