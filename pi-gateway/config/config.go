// Package config is the telephone Pi's configuration: a YAML file (see
// testdata/example.yaml) whose every key an environment variable
// KURODENWA_<KEY> overrides (sip.password is KURODENWA_SIP_PASSWORD). The
// SIP password comes only from that variable or sip.password_file, a file
// readable by its owner alone. Problems are reported all at once, each
// naming its key.
package config

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/kurodenwa/kurodenwa/internal/confkit"
	"github.com/kurodenwa/kurodenwa/internal/digitmap"
	"github.com/kurodenwa/kurodenwa/internal/tone"
	"github.com/kurodenwa/kurodenwa/pi-gateway/audio/alsa"
)

// Config is the whole file.
type Config struct {
	Line  Line  `mapstructure:"line"`
	Pulse Pulse `mapstructure:"pulse"`
	Audio Audio `mapstructure:"audio"`
	SIP   SIP   `mapstructure:"sip"`
	Phone Phone `mapstructure:"phone"`
	HTTP  HTTP  `mapstructure:"http"`
}

// Line chooses and sets up the line backend.
type Line struct {
	Backend string `mapstructure:"backend"` // gpio | serial | sim
	GPIO    GPIO   `mapstructure:"gpio"`
	Serial  Serial `mapstructure:"serial"`
}

// Pin names a GPIO line: by name ("GPIO17"), or by offset with a chip.
type Pin struct {
	Chip      string `mapstructure:"chip"`
	Line      string `mapstructure:"line"`
	ActiveLow bool   `mapstructure:"active_low"`
}

// GPIO is the wiring of the GPIO backend.
type GPIO struct {
	Hook     Pin    `mapstructure:"hook"`
	HookPull string `mapstructure:"hook_pull"` // up | down | none
	Ringer   Pin    `mapstructure:"ringer"`
	Reverse  Pin    `mapstructure:"reverse"`
	Talk     Pin    `mapstructure:"talk"`
}

// Serial is the Arduino's port.
type Serial struct {
	Port     string        `mapstructure:"port"`
	Baud     int           `mapstructure:"baud"`
	Watchdog time.Duration `mapstructure:"watchdog"`
}

// Pulse is how the rotary dial is decoded.
type Pulse struct {
	Standard string        `mapstructure:"standard"` // japan | sweden | newzealand
	FlashMin time.Duration `mapstructure:"flash_min"`
	FlashMax time.Duration `mapstructure:"flash_max"`
}

// Audio chooses the audio device.
type Audio struct {
	Backend       string    `mapstructure:"backend"` // alsa | file | silence
	ALSA          ALSA      `mapstructure:"alsa"`
	File          AudioFile `mapstructure:"file"`
	MicGainDB     float64   `mapstructure:"mic_gain_db"`     // towards the network
	SpeakerGainDB float64   `mapstructure:"speaker_gain_db"` // towards the earpiece
}

// ALSA is the USB sound card.
type ALSA struct {
	Driver  string        `mapstructure:"driver"` // alsa.DriverUtils | alsa.DriverMiniaudio
	Device  string        `mapstructure:"device"` // "" is the driver's default; see alsa.Config.Device
	Rate    int           `mapstructure:"rate"`
	Period  time.Duration `mapstructure:"period"`
	Periods int           `mapstructure:"periods"`
}

// AudioFile is the WAV-file device.
type AudioFile struct {
	Input    string `mapstructure:"input"`
	Loop     bool   `mapstructure:"loop"`
	Output   string `mapstructure:"output"`
	Realtime bool   `mapstructure:"realtime"`
}

// SIP is the account the gateway registers.
type SIP struct {
	// Mode is "asterisk" (register with the PBX Pi as its black-phone
	// extension) or "twilio" (register directly with a Twilio SIP Domain).
	Mode          string        `mapstructure:"mode"`
	Registrar     string        `mapstructure:"registrar"` // host[:port]
	Domain        string        `mapstructure:"domain"`    // of the address of record; default the registrar's host
	User          string        `mapstructure:"user"`
	AuthUser      string        `mapstructure:"auth_user"` // default User
	Password      string        `mapstructure:"password"`  // environment only
	PasswordFile  string        `mapstructure:"password_file"`
	DisplayName   string        `mapstructure:"display_name"`
	Transport     string        `mapstructure:"transport"` // udp | tcp | tls
	Bind          string        `mapstructure:"bind"`      // local SIP address
	OutboundProxy string        `mapstructure:"outbound_proxy"`
	Expiry        time.Duration `mapstructure:"expiry"`
	RTPPorts      string        `mapstructure:"rtp_ports"` // "10000-10100"
}

// Phone is the call logic's behaviour.
type Phone struct {
	DigitMap          string        `mapstructure:"digit_map"`
	ToneZone          string        `mapstructure:"tone_zone"`
	FlashDigit        string        `mapstructure:"flash_digit"` // "" ignores flashes in a call
	ReverseOnAnswer   bool          `mapstructure:"reverse_on_answer"`
	ErrorTone         string        `mapstructure:"error_tone"` // congestion | howler
	FirstDigitTimeout time.Duration `mapstructure:"first_digit_timeout"`
	InterDigitTimeout time.Duration `mapstructure:"inter_digit_timeout"`
	IncompleteTimeout time.Duration `mapstructure:"incomplete_timeout"`
}

// HTTP is the status server.
type HTTP struct {
	Listen string `mapstructure:"listen"`
}

// Modes.
const (
	ModeAsterisk = "asterisk"
	ModeTwilio   = "twilio"
)

func defaults() map[string]any {
	return map[string]any{
		"line.backend":              "sim",
		"line.gpio.hook_pull":       "up",
		"line.serial.baud":          115200,
		"line.serial.watchdog":      "5s",
		"pulse.standard":            "japan",
		"pulse.flash_min":           "100ms",
		"pulse.flash_max":           "1000ms",
		"audio.backend":             "silence",
		"audio.alsa.driver":         alsa.DriverUtils,
		"audio.alsa.device":         "", // the driver's default device
		"audio.alsa.rate":           48000,
		"audio.alsa.period":         "10ms",
		"audio.alsa.periods":        3,
		"sip.mode":                  ModeAsterisk,
		"sip.user":                  "blackphone",
		"sip.transport":             "udp",
		"sip.bind":                  "0.0.0.0:5060",
		"sip.expiry":                "300s",
		"sip.rtp_ports":             "10000-10100",
		"phone.digit_map":           digitmap.DefaultJapan,
		"phone.tone_zone":           "jp",
		"phone.flash_digit":         "A",
		"phone.reverse_on_answer":   true,
		"phone.error_tone":          "congestion",
		"phone.first_digit_timeout": "20s",
		"phone.inter_digit_timeout": "4s",
		"phone.incomplete_timeout":  "15s",
		"http.listen":               "127.0.0.1:8089",
	}
}

// Options are the outside world; see confkit.Options.
type Options = confkit.Options

// Load reads and checks the file at path.
func Load(path string, opts Options) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(data, path, opts)
}

// Parse is Load on bytes already read; name is used in messages.
func Parse(data []byte, name string, opts Options) (*Config, error) {
	opts = opts.WithDefaults()
	c, probs := confkit.Decode[Config](data, confkit.Spec{
		Defaults: defaults(),
		Secret:   func(k string) bool { return k == "sip.password" },
	}, opts)
	if len(probs) > 0 {
		return nil, probs.Err(name)
	}
	probs = append(probs, c.resolveSecret(opts)...)
	probs = append(probs, c.validate()...)
	if err := probs.Err(name); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Config) resolveSecret(opts Options) confkit.Problems {
	var probs confkit.Problems
	if c.SIP.Password == "" && c.SIP.PasswordFile != "" {
		b, err := opts.ReadSecretFile(c.SIP.PasswordFile)
		if err != nil {
			probs.Addf("sip.password_file", "cannot read secret: %v", err)
			return probs
		}
		c.SIP.Password = strings.TrimRight(string(b), "\r\n")
	}
	if c.SIP.Password == "" {
		probs.Addf("sip.password", "missing secret: set the environment variable %s (or sip.password_file to a file readable only by its owner)", confkit.EnvName("sip.password"))
	}
	return probs
}

func oneOf(probs *confkit.Problems, key, val string, allowed ...string) {
	for _, a := range allowed {
		if val == a {
			return
		}
	}
	probs.Addf(key, "%q: want one of %s", val, strings.Join(allowed, ", "))
}

func hostPort(probs *confkit.Problems, key, val string, needPort bool) {
	if val == "" {
		return
	}
	host, port, err := net.SplitHostPort(val)
	if err != nil {
		if needPort || strings.ContainsAny(val, "/ ") {
			probs.Addf(key, "%q: want host:port", val)
		}
		return
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 || strings.ContainsAny(host, "/ ") {
		probs.Addf(key, "%q: want host:port", val)
	}
}

func (c *Config) validate() confkit.Problems {
	var p confkit.Problems
	oneOf(&p, "line.backend", c.Line.Backend, "gpio", "serial", "sim")
	switch c.Line.Backend {
	case "gpio":
		for key, pin := range map[string]Pin{"hook": c.Line.GPIO.Hook, "ringer": c.Line.GPIO.Ringer, "reverse": c.Line.GPIO.Reverse, "talk": c.Line.GPIO.Talk} {
			if pin.Line == "" {
				p.Addf("line.gpio."+key+".line", "required for the gpio backend: a line name (GPIO17) or an offset with a chip")
			} else if _, err := strconv.Atoi(pin.Line); err == nil && pin.Chip == "" {
				p.Addf("line.gpio."+key+".chip", "required with a line offset (%s)", pin.Line)
			}
		}
		oneOf(&p, "line.gpio.hook_pull", c.Line.GPIO.HookPull, "up", "down", "none")
	case "serial":
		if c.Line.Serial.Port == "" {
			p.Add("line.serial.port", "required for the serial backend, e.g. /dev/ttyACM0")
		}
		if c.Line.Serial.Baud <= 0 {
			p.Addf("line.serial.baud", "%d: want a positive speed", c.Line.Serial.Baud)
		}
	}
	oneOf(&p, "pulse.standard", c.Pulse.Standard, "japan", "sweden", "newzealand")
	if _, err := c.PulseConfig(); err != nil {
		p.Addf("pulse", "%v", err)
	}
	oneOf(&p, "audio.backend", c.Audio.Backend, "alsa", "file", "silence")
	c.validateALSA(&p)
	for key, g := range map[string]float64{"audio.mic_gain_db": c.Audio.MicGainDB, "audio.speaker_gain_db": c.Audio.SpeakerGainDB} {
		if g < -40 || g > 40 {
			p.Addf(key, "%v dB: want −40 to 40", g)
		}
	}
	c.validateSIP(&p)
	c.validatePhone(&p)
	hostPort(&p, "http.listen", c.HTTP.Listen, true)
	if host, _, err := net.SplitHostPort(c.HTTP.Listen); err == nil {
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			p.Addf("http.listen", "%q: the status server has no authentication; keep it on a loopback address", c.HTTP.Listen)
		}
	}
	return p
}

// validateALSA uses the card driver's own checks, so the two cannot
// disagree; each problem is named by its YAML key.
func (c *Config) validateALSA(p *confkit.Problems) {
	for _, fe := range c.alsaConfig().Problems() {
		p.Addf("audio.alsa."+fe.Field, "%s: want %s", fe.Got, fe.Want)
	}
}

func (c *Config) validateSIP(p *confkit.Problems) {
	s := &c.SIP
	oneOf(p, "sip.mode", s.Mode, ModeAsterisk, ModeTwilio)
	oneOf(p, "sip.transport", s.Transport, "udp", "tcp", "tls")
	if s.Registrar == "" {
		p.Add("sip.registrar", "required: the PBX Pi's address (asterisk mode) or NAME.sip.twilio.com (twilio mode)")
	}
	hostPort(p, "sip.registrar", s.Registrar, false)
	hostPort(p, "sip.outbound_proxy", s.OutboundProxy, false)
	hostPort(p, "sip.bind", s.Bind, true)
	if s.User == "" {
		p.Add("sip.user", "required")
	}
	if s.Expiry < 60*time.Second || s.Expiry > 24*time.Hour {
		p.Addf("sip.expiry", "%v: want 60s to 24h", s.Expiry)
	}
	if lo, hi, ok := strings.Cut(s.RTPPorts, "-"); !ok {
		p.Addf("sip.rtp_ports", "%q: want FIRST-LAST", s.RTPPorts)
	} else if a, err1 := strconv.Atoi(lo); err1 != nil || a < 1024 || a%2 != 0 {
		p.Addf("sip.rtp_ports", "%q: the first port must be even and at least 1024", s.RTPPorts)
	} else if b, err2 := strconv.Atoi(hi); err2 != nil || b < a+1 || b > 65535 {
		p.Addf("sip.rtp_ports", "%q: the last port must follow the first, at most 65535", s.RTPPorts)
	}
	if s.Mode == ModeTwilio {
		host := s.Registrar
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if !strings.HasSuffix(host, ".sip.twilio.com") {
			p.Addf("sip.registrar", "%q: twilio mode registers with a SIP Domain, NAME.sip.twilio.com", s.Registrar)
		}
		if s.Password != "" && !strongTwilio(s.Password) {
			p.Add("sip.password", "Twilio credential lists need at least 12 characters with upper case, lower case and digits")
		}
	}
}

func strongTwilio(pw string) bool {
	var up, low, dig bool
	for _, r := range pw {
		up = up || unicode.IsUpper(r)
		low = low || unicode.IsLower(r)
		dig = dig || unicode.IsDigit(r)
	}
	return len(pw) >= 12 && up && low && dig
}

func (c *Config) validatePhone(p *confkit.Problems) {
	ph := &c.Phone
	if _, err := digitmap.Parse(ph.DigitMap); err != nil {
		p.Addf("phone.digit_map", "%v", err)
	}
	if _, err := tone.Lookup(ph.ToneZone); err != nil {
		p.Addf("phone.tone_zone", "%v", err)
	}
	if len(ph.FlashDigit) > 1 || len(ph.FlashDigit) == 1 && !strings.ContainsAny(ph.FlashDigit, "0123456789*#ABCD") {
		p.Addf("phone.flash_digit", "%q: want one of 0–9 * # A–D, or empty", ph.FlashDigit)
	}
	oneOf(p, "phone.error_tone", ph.ErrorTone, "congestion", "howler")
	for key, d := range map[string]time.Duration{
		"phone.first_digit_timeout": ph.FirstDigitTimeout, "phone.inter_digit_timeout": ph.InterDigitTimeout,
		"phone.incomplete_timeout": ph.IncompleteTimeout,
	} {
		if d < 500*time.Millisecond || d > 5*time.Minute {
			p.Addf(key, "%v: want 500ms to 5m", d)
		}
	}
}
