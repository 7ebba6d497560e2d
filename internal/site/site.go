// Package site describes one kurodenwa installation: the exchange, its Twilio
// trunk, its extensions, ring groups and peer exchanges, and the ARI
// application. Every other component reads the site through this package, so
// a value is checked once, here, and nowhere else.
package site

import "time"

// Site is a validated site file. Secrets are resolved from the environment or
// from files; they are never read from the YAML itself.
type Site struct {
	Exchange   Exchange             `mapstructure:"exchange"`
	Numbering  Numbering            `mapstructure:"numbering"`
	Twilio     Twilio               `mapstructure:"twilio"`
	Extensions map[string]Extension `mapstructure:"extensions"`
	RingGroups map[string]RingGroup `mapstructure:"ring_groups"`
	Peers      map[string]Peer      `mapstructure:"peers"`
	ARI        ARI                  `mapstructure:"ari"`
	Calls      Calls                `mapstructure:"calls"`
}

// Ringback modes for callers who are not answered.
const (
	RingbackIndicate = "indicate" // SIP 180: the caller's side makes the tone
	RingbackTone     = "tone"     // 183 early media with the zone's ring tone
)

// Calls is how the ARI application treats calls.
type Calls struct {
	// InboundRingback and OutboundRingback: indicate or tone.
	InboundRingback  string `mapstructure:"inbound_ringback"`
	OutboundRingback string `mapstructure:"outbound_ringback"`
	// PassEarlyMedia lets the far network's tones and announcements reach
	// an unanswered caller.
	PassEarlyMedia bool     `mapstructure:"pass_early_media"`
	Queue          Queue    `mapstructure:"queue"`
	NoAnswer       NoAnswer `mapstructure:"no_answer"`
	// Announcements replaces the tone of a refusal by a sound file, by
	// Q.850 cause ("1" unallocated, "17" busy, "34" congestion, …).
	Announcements map[string]string `mapstructure:"announcements"`
	// ToneLimit bounds busy and congestion tones and announcements.
	ToneLimit time.Duration `mapstructure:"tone_limit"`
	// FlashDigit is the DTMF digit pi-gateway sends for a hook flash.
	FlashDigit string `mapstructure:"flash_digit"`
	// HoldLimit bounds a hold after a hook flash.
	HoldLimit time.Duration `mapstructure:"hold_limit"`
	// MOHClass is the music-on-hold class of held and queued callers.
	MOHClass string `mapstructure:"moh_class"`
	// TransferHandling is who carries out softphones' REFER transfers:
	// TransferAuto (the ARI application where Asterisk hands REFERs over
	// safely), TransferApplication (the application wherever Asterisk can
	// hand them over) or TransferCore (Asterisk itself, always).
	TransferHandling string `mapstructure:"transfer_handling"`
}

// Transfer handling modes (calls.transfer_handling).
const (
	// TransferAuto: PJSIP_TRANSFER_HANDLING(ari-only) where Asterisk
	// also survives a REFER with "Refer-Sub: false" (22.11, 20.21, 23.5
	// and later; asterisk#2021), else Asterisk's own handling.
	TransferAuto = "auto"
	// TransferApplication: ari-only wherever Asterisk has it (20.13, 21.8,
	// 22.3 and later), for sites whose phones never send Refer-Sub: false.
	TransferApplication = "application"
	// TransferCore: Asterisk's own REFER handling.
	TransferCore = "core"
)

// Queue governs callers waiting for the busy black phone.
type Queue struct {
	MaxLength int           `mapstructure:"max_length"`
	MaxWait   time.Duration `mapstructure:"max_wait"`
	// PositionAnnouncement is a sound played on entry, followed by the
	// caller's position; empty plays none.
	PositionAnnouncement string `mapstructure:"position_announcement"`
}

// NoAnswer is what an inbound caller gets when the target does not answer.
type NoAnswer struct {
	// Destination, an extension or ring group, is rung next.
	Destination string `mapstructure:"destination"`
	// Announcement is a sound played before hanging up.
	Announcement string `mapstructure:"announcement"`
}

// Exchange is this PBX as the rest of the network sees it.
type Exchange struct {
	Name       string `mapstructure:"name"`
	Identifier string `mapstructure:"identifier"` // UUID, as published in mantela.json
	// PreferredPrefix is the prefix other exchanges are asked to use for us.
	PreferredPrefix string `mapstructure:"preferred_prefix"`
	// HopPrefix, when set, lets a peer's call for <HopPrefix><number> be
	// analysed again outward (redial-to-peer). Empty disables transit.
	HopPrefix string `mapstructure:"hop_prefix"`
	SIP       SIP    `mapstructure:"sip"`
	NAT       NAT    `mapstructure:"nat"`
	RTP       RTP    `mapstructure:"rtp"`
	// ToneZone names the indications zone (jp, us, uk, …) used for every tone.
	ToneZone string `mapstructure:"tone_zone"`
	// MusicOnHoldDir holds the files of the default music-on-hold class.
	MusicOnHoldDir string `mapstructure:"moh_directory"`
	// RingTimeout bounds how long a call rings an extension unanswered.
	RingTimeout time.Duration `mapstructure:"ring_timeout"`
	// HangupToneLimit bounds the hang-up tone; then the line is released.
	HangupToneLimit time.Duration `mapstructure:"hangup_tone_limit"`
}

// SIP lists the PJSIP transports. An empty address disables that transport.
type SIP struct {
	UDP string       `mapstructure:"udp"`
	TCP string       `mapstructure:"tcp"`
	TLS TLSTransport `mapstructure:"tls"`
}

// TLSTransport is a SIP over TLS listener.
type TLSTransport struct {
	Bind     string `mapstructure:"bind"`
	CertFile string `mapstructure:"cert_file"`
	KeyFile  string `mapstructure:"key_file"`
}

// NAT tells Asterisk which networks are local and what address to advertise
// to everything else.
type NAT struct {
	LocalNet                 []string `mapstructure:"local_net"`
	ExternalSignalingAddress string   `mapstructure:"external_signaling_address"`
	ExternalMediaAddress     string   `mapstructure:"external_media_address"`
}

// RTP is the media port range.
type RTP struct {
	Start int `mapstructure:"start"`
	End   int `mapstructure:"end"`
}

// Numbering is the national numbering plan used to turn dialled digits into
// E.164 for the PSTN. The defaults are Japan's.
type Numbering struct {
	CountryCode         string `mapstructure:"country_code"`
	TrunkPrefix         string `mapstructure:"trunk_prefix"`
	InternationalPrefix string `mapstructure:"international_prefix"`
	// NationalLengths gives the full length of a national number (trunk
	// prefix included) by its leading digits; the longest match wins.
	NationalLengths map[string]int `mapstructure:"national_lengths"`
	// ServiceCodePrefix and ServiceCodeLength describe short service codes
	// (Japan: 1xx such as 110, 117, 119).
	ServiceCodePrefix string `mapstructure:"service_code_prefix"`
	ServiceCodeLength int    `mapstructure:"service_code_length"`
	// ServiceCodes maps a service code to the E.164 number that serves it
	// through the trunk. Codes not listed are refused with congestion.
	ServiceCodes map[string]string `mapstructure:"service_codes"`
}

// Twilio is the Elastic SIP Trunk.
type Twilio struct {
	Enabled bool `mapstructure:"enabled"`
	// TerminationHost is NAME.pstn.twilio.com or an edge such as
	// NAME.pstn.tokyo.twilio.com; Twilio requires it as the Request-URI host.
	TerminationHost string `mapstructure:"termination_host"`
	Transport       string `mapstructure:"transport"` // udp, tcp or tls
	Username        string `mapstructure:"username"`
	Password        string `mapstructure:"password"` // secret
	PasswordFile    string `mapstructure:"password_file"`
	// CallerID is presented on PSTN calls; Twilio requires E.164 and a number
	// it owns or has verified.
	CallerID       string         `mapstructure:"caller_id"`
	DIDs           map[string]DID `mapstructure:"dids"`
	SignalingCIDRs []string       `mapstructure:"signaling_cidrs"`
	MediaCIDRs     []string       `mapstructure:"media_cidrs"`
	// AllowEmergency is not offered: Elastic SIP Trunking carries no
	// emergency calls from Japan, so service codes default to congestion.
}

// DID is a number Twilio delivers and where its calls go.
type DID struct {
	Number      string `mapstructure:"number"`      // E.164
	Destination string `mapstructure:"destination"` // extension or ring group name
}

// Extension kinds.
const (
	KindBlackPhone = "blackphone"
	KindSoftphone  = "softphone"
)

// Extension is a phone registered to this PBX.
type Extension struct {
	Number       string `mapstructure:"number"`
	Kind         string `mapstructure:"kind"` // blackphone or softphone
	DisplayName  string `mapstructure:"display_name"`
	SIPUser      string `mapstructure:"sip_user"`
	Password     string `mapstructure:"password"` // secret
	PasswordFile string `mapstructure:"password_file"`
	// HangupTone keeps the line up with the hang-up tone after the far end
	// leaves, until the handset is replaced.
	HangupTone bool `mapstructure:"hangup_tone"`
	// MaxContacts bounds simultaneous registrations (1 for the black phone:
	// a second registration would steal its calls).
	MaxContacts int  `mapstructure:"max_contacts"`
	Public      bool `mapstructure:"public"` // listed in mantela.json
	// QualifyFrequency is how often Asterisk sends OPTIONS to the phone
	// (keeping NAT bindings open and its state known); 0 sends none, for
	// phones that do not answer them while asleep.
	QualifyFrequency time.Duration `mapstructure:"qualify_frequency"`
}

// Ring group strategies.
const (
	StrategyRingAll = "ringall"
	StrategyInOrder = "inorder"
)

// RingGroup rings several extensions under one number.
type RingGroup struct {
	Number        string        `mapstructure:"number"`
	DisplayName   string        `mapstructure:"display_name"`
	Strategy      string        `mapstructure:"strategy"`
	Members       []string      `mapstructure:"members"` // extension names
	MemberTimeout time.Duration `mapstructure:"member_timeout"`
	Public        bool          `mapstructure:"public"`
}

// Peer authentication modes.
const (
	AuthIP          = "ip"
	AuthCredentials = "credentials"
)

// Peer is a directly connected exchange.
type Peer struct {
	DisplayName string `mapstructure:"display_name"`
	Identifier  string `mapstructure:"identifier"`
	// Prefix is what our callers dial before the peer's own number.
	Prefix string `mapstructure:"prefix"`
	// Host is host[:port] of the peer's SIP server, or a SIP URI such as
	// sip:pbx.example.org:5060;transport=tcp; Match lists the addresses or
	// CIDRs its calls come from when Auth is ip (default: Host).
	Host      string   `mapstructure:"host"`
	Transport string   `mapstructure:"transport"`
	Auth      string   `mapstructure:"auth"`
	Match     []string `mapstructure:"match"`
	// Username is what we authenticate with at the peer; InboundUsername
	// what the peer authenticates with here (default: Username). One
	// password serves both directions.
	Username        string `mapstructure:"username"`
	InboundUsername string `mapstructure:"inbound_username"`
	Password        string `mapstructure:"password"` // secret, credentials mode only
	PasswordFile    string `mapstructure:"password_file"`
	Mantela         string `mapstructure:"mantela"`
	// Transit lets this peer use our hop prefix to reach our other peers.
	Transit bool `mapstructure:"transit"`
	// TransitWithoutHop also routes this peer's calls for another peer's
	// prefix onward without our hop prefix. Off by default: the exchange
	// networks expect the hop prefix, and it keeps transit deliberate.
	TransitWithoutHop bool `mapstructure:"transit_without_hop"`
	// AllowPSTN lets this peer's calls out through the Twilio trunk. Off by
	// default: a peer must never run up our Twilio bill unasked.
	AllowPSTN bool `mapstructure:"allow_pstn"`
}

// ARI configures the Stasis application and the FastAGI fallback.
type ARI struct {
	App          string `mapstructure:"app"`
	User         string `mapstructure:"user"`
	Password     string `mapstructure:"password"` // secret
	PasswordFile string `mapstructure:"password_file"`
	// Bind is Asterisk's HTTP server (http.conf); the ARI app connects to it.
	Bind     string `mapstructure:"bind"`
	CertFile string `mapstructure:"cert_file"` // TLS for http.conf when set
	KeyFile  string `mapstructure:"key_file"`
	FastAGI  string `mapstructure:"fastagi"`
	// API is the application's own HTTP server: health, calls, metrics,
	// mantela.json.
	API string `mapstructure:"api"`
	// DrainTimeout bounds a shutdown: live calls may finish meanwhile, new
	// ones take the dialplan's fallback.
	DrainTimeout time.Duration `mapstructure:"drain_timeout"`
}

// Endpoint is the PJSIP endpoint of an extension: its SIP user, since PJSIP
// identifies a phone by matching the From user to an endpoint's name.
func (e Extension) Endpoint() string { return e.SIPUser }

// PeerEndpoint is the PJSIP endpoint of a peer trunk.
func PeerEndpoint(name string) string { return "peer-" + name }

// TwilioEndpoint is the PJSIP endpoint of the Twilio trunk.
const TwilioEndpoint = "twilio"
