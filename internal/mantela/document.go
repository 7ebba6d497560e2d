package mantela

import "encoding/json"

// SchemaURL is the $id of the Mantela 0.1.x document schema; documents name
// it in their $schema field.
const SchemaURL = "https://tkytel.github.io/mantela/0.1.x/mantela.schema.json"

// Document is one exchange's Mantela document (mantela.json).
//
// The JSON tags let a Document be marshalled back into the 0.1.x format;
// fields the schema requires are written even when empty, so that
// SchemaValidator.ValidateDocument catches them. Fields the package does not
// know are ignored when parsing.
type Document struct {
	Schema     string      `json:"$schema,omitempty"`
	Version    string      `json:"version,omitempty"`
	AboutMe    AboutMe     `json:"aboutMe"`
	Extensions []Extension `json:"extensions"`
	Providers  []Provider  `json:"providers"`
}

// AboutMe describes the exchange that publishes the document.
type AboutMe struct {
	Name string `json:"name"`
	// PreferredPrefix is a string or an array of strings in JSON; a single
	// string is read as a one-element slice.
	PreferredPrefix []string `json:"preferredPrefix"`
	// Identifier is the exchange's machine-readable identity; it keys the
	// exchange in a Network and a Graph.
	Identifier string `json:"identifier"`
	// SIPURI lists SIP or SIPS URIs (RFC 3261 §19.1) at which the exchange
	// accepts calls.
	SIPURI                 []string     `json:"sipUri,omitempty"`
	Unavailable            bool         `json:"unavailable,omitempty"`
	GeolocationCoordinates *Geolocation `json:"geolocationCoordinates,omitempty"`
	Image                  string       `json:"image,omitempty"`

	// Deprecated: superseded by SIPURI in the schema; kept so that older
	// documents keep their data.
	SIPUsername string `json:"sipUsername,omitempty"`
	// Deprecated: superseded by SIPURI in the schema.
	SIPPassword string `json:"sipPassword,omitempty"`
	// Deprecated: superseded by SIPURI in the schema.
	SIPServer string `json:"sipServer,omitempty"`
	// Deprecated: superseded by SIPURI in the schema.
	SIPPort string `json:"sipPort,omitempty"`
}

// Extension is a terminal (or a service such as a conference room) attached
// to the exchange.
type Extension struct {
	Name      string `json:"name"`
	Extension string `json:"extension"`
	// Identifier is optional; TransferTo of other extensions refers to it.
	Identifier string `json:"identifier,omitempty"`
	// Type is one of the schema's kinds (dialphone, cellphone, main, …);
	// Parse accepts unknown kinds so that newer documents still load.
	Type                   string       `json:"type"`
	Model                  string       `json:"model,omitempty"`
	TransferTo             []string     `json:"transferTo,omitempty"`
	GeolocationCoordinates *Geolocation `json:"geolocationCoordinates,omitempty"`
	Image                  string       `json:"image,omitempty"`
	Unavailable            bool         `json:"unavailable,omitempty"`
}

// Provider is another exchange this exchange can dial, or, when Identifier
// equals the document's own identifier, the exchange itself: that entry's
// Prefix is the "self" prefix that makes the exchange search outward again.
type Provider struct {
	Name string `json:"name"`
	// Prefix is what this exchange's users dial to reach the provider; it
	// may be empty, in which case the entry is not routable.
	Prefix     string `json:"prefix"`
	Identifier string `json:"identifier"`
	// Mantela is the URL of the provider's own document, possibly relative
	// to the URL of the document that lists it.
	Mantela     string `json:"mantela"`
	Unavailable bool   `json:"unavailable,omitempty"`
}

// MarshalJSON writes absent lists as empty arrays, since the schema requires
// extensions, providers and preferredPrefix to be present.
func (d Document) MarshalJSON() ([]byte, error) {
	// plain has Document's fields without its methods, so Marshal does not
	// recurse into this function.
	type plain Document
	out := plain(d)
	if out.Extensions == nil {
		out.Extensions = []Extension{}
	}
	if out.Providers == nil {
		out.Providers = []Provider{}
	}
	if out.AboutMe.PreferredPrefix == nil {
		out.AboutMe.PreferredPrefix = []string{}
	}
	return json.Marshal(out)
}

// Geolocation is a position on Earth in decimal degrees and metres.
type Geolocation struct {
	Latitude         float64  `json:"latitude"`
	Longitude        float64  `json:"longitude"`
	Altitude         *float64 `json:"altitude,omitempty"`
	Accuracy         *float64 `json:"accuracy,omitempty"`
	AltitudeAccuracy *float64 `json:"altitudeAccuracy,omitempty"`
}

// SelfPrefixes returns the prefixes of the document's own entries in its
// providers list that can be dialled (available and non-empty).
func (d *Document) SelfPrefixes() []string {
	var prefixes []string
	for _, provider := range d.Providers {
		if provider.Identifier == d.AboutMe.Identifier && !provider.Unavailable && provider.Prefix != "" {
			prefixes = append(prefixes, provider.Prefix)
		}
	}
	return prefixes
}
