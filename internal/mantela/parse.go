package mantela

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

const (
	// DefaultMaxBytes bounds a document's size. Real documents are a few
	// kilobytes; images inlined as data: URIs are the usual cause of bulk.
	DefaultMaxBytes int64 = 1 << 20
	// DefaultMaxNesting bounds how deeply objects and arrays may nest. A
	// Mantela document needs four levels; the margin tolerates extensions.
	DefaultMaxNesting = 32
	// maxIssues keeps an error message readable when a document is wrong
	// everywhere.
	maxIssues = 20
)

var (
	// ErrTooLarge reports a document larger than the configured limit.
	ErrTooLarge = errors.New("document too large")
	// ErrTooDeep reports objects or arrays nested beyond the configured limit.
	ErrTooDeep = errors.New("document nested too deeply")
	// ErrSyntax reports input that is not a single JSON value.
	ErrSyntax = errors.New("invalid JSON")
	// ErrInvalid reports JSON that is not a usable Mantela document.
	ErrInvalid = errors.New("invalid Mantela document")
)

// Issue is one problem found in a document.
type Issue struct {
	// Path locates the value in the document, e.g. "providers[3].prefix";
	// it is empty for problems with the document as a whole.
	Path    string
	Problem string
}

func (i Issue) String() string {
	if i.Path == "" {
		return i.Problem
	}
	return i.Path + ": " + i.Problem
}

// ParseError lists why a document was rejected.
type ParseError struct {
	// Source names the document, usually its URL or file name.
	Source string
	Issues []Issue
	// Omitted counts issues left out of Issues to keep the list short.
	Omitted int
	// Err is ErrTooLarge, ErrTooDeep, ErrSyntax or ErrInvalid, possibly
	// wrapping the decoder's error, so callers can classify with errors.Is.
	Err error
}

func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("mantela: ")
	if e.Source != "" {
		b.WriteString(e.Source)
		b.WriteString(": ")
	}
	for i, issue := range e.Issues {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(issue.String())
	}
	if len(e.Issues) == 0 && e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	if e.Omitted > 0 {
		fmt.Fprintf(&b, " (and %d more)", e.Omitted)
	}
	return b.String()
}

func (e *ParseError) Unwrap() error { return e.Err }

// Parser holds the limits applied to untrusted documents. The zero value
// uses the defaults.
type Parser struct {
	// MaxBytes bounds the input size; zero selects DefaultMaxBytes.
	MaxBytes int64
	// MaxNesting bounds how deeply objects and arrays nest; zero selects
	// DefaultMaxNesting.
	MaxNesting int
}

// Parse reads one Mantela document with the default limits. source names the
// document in error messages.
func Parse(data []byte, source string) (*Document, error) {
	return Parser{}.Parse(data, source)
}

// Parse reads one Mantela document.
//
// It rejects what would make the document unusable or misleading for
// fetching and routing: input that is not a JSON object, a missing or
// malformed aboutMe.identifier, values of the wrong JSON type, prefixes that
// are not digits, providers without an identifier. It ignores fields it does
// not know, tolerates null for optional fields and accepts a preferredPrefix
// given as a single string. Use SchemaValidator for the schema's full rules
// (required names, enumerations, ranges).
func (p Parser) Parse(data []byte, source string) (*Document, error) {
	root, err := p.decode(data, source)
	if err != nil {
		return nil, err
	}
	var d decoder
	doc := d.document(root, "")
	if err := d.err(source); err != nil {
		return nil, err
	}
	return doc, nil
}

// ParseCollection reads a "mantelas" collection (mantelas.schema.json), a
// single file carrying several exchanges' documents. It returns the valid
// documents and, if any item was rejected, a *ParseError naming them; the
// valid documents are usable either way.
func (p Parser) ParseCollection(data []byte, source string) ([]*Document, error) {
	root, err := p.decode(data, source)
	if err != nil {
		return nil, err
	}
	var d decoder
	docs := d.collection(root)
	return docs, d.err(source)
}

// ParseAny reads either a single document or a "mantelas" collection,
// deciding by the top-level keys, as a fetcher following URLs must.
func (p Parser) ParseAny(data []byte, source string) ([]*Document, error) {
	root, err := p.decode(data, source)
	if err != nil {
		return nil, err
	}
	var d decoder
	if obj, ok := root.(map[string]any); ok && obj["aboutMe"] == nil && obj["mantelas"] != nil {
		docs := d.collection(root)
		return docs, d.err(source)
	}
	doc := d.document(root, "")
	if err := d.err(source); err != nil {
		return nil, err
	}
	return []*Document{doc}, nil
}

// decode enforces the size and nesting limits and decodes the JSON into
// generic values, so that type errors can be reported with their path.
func (p Parser) decode(data []byte, source string) (any, error) {
	maxBytes := p.MaxBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	maxNesting := p.MaxNesting
	if maxNesting <= 0 {
		maxNesting = DefaultMaxNesting
	}
	if int64(len(data)) > maxBytes {
		return nil, &ParseError{Source: source, Err: fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), maxBytes)}
	}
	// Some web servers prepend a byte order mark; JSON forbids it but it
	// carries no meaning.
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	// Checked before decoding because encoding/json only stops at 10,000
	// levels, after allocating for all of them.
	if nestingExceeds(data, maxNesting) {
		return nil, &ParseError{Source: source, Err: fmt.Errorf("%w: more than %d levels of objects or arrays", ErrTooDeep, maxNesting)}
	}
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.UseNumber()
	var root any
	if err := decoder.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &ParseError{Source: source, Err: fmt.Errorf("%w: empty input", ErrSyntax)}
		}
		return nil, &ParseError{Source: source, Err: fmt.Errorf("%w: %w", ErrSyntax, describeSyntaxError(err))}
	}
	if _, err := decoder.Token(); !errors.Is(err, io.EOF) {
		return nil, &ParseError{Source: source, Err: fmt.Errorf("%w: data after the top-level value at offset %d", ErrSyntax, decoder.InputOffset())}
	}
	return root, nil
}

func describeSyntaxError(err error) error {
	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) {
		return fmt.Errorf("offset %d: %w", syntaxErr.Offset, err)
	}
	return err
}

// nestingExceeds reports whether objects and arrays nest deeper than limit.
// It only tracks strings and brackets; malformed JSON is left for the decoder
// to reject.
func nestingExceeds(data []byte, limit int) bool {
	depth := 0
	inString := false
	escaped := false
	for _, b := range data {
		if inString {
			switch {
			case escaped:
				escaped = false
			case b == '\\':
				escaped = true
			case b == '"':
				inString = false
			}
			continue
		}
		switch b {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > limit {
				return true
			}
		case '}', ']':
			depth--
		}
	}
	return false
}

// decoder converts generic JSON values into Document fields, collecting
// issues instead of stopping at the first so that a publisher can fix all of
// them at once.
type decoder struct {
	issues  []Issue
	omitted int
}

func (d *decoder) fail(path, problem string) {
	if len(d.issues) >= maxIssues {
		d.omitted++
		return
	}
	d.issues = append(d.issues, Issue{Path: path, Problem: problem})
}

func (d *decoder) err(source string) error {
	if len(d.issues) == 0 {
		return nil
	}
	return &ParseError{Source: source, Issues: d.issues, Omitted: d.omitted, Err: ErrInvalid}
}

func (d *decoder) collection(root any) []*Document {
	obj, ok := root.(map[string]any)
	if !ok {
		d.fail("", "must be an object, not "+kindOf(root))
		return nil
	}
	items, ok := obj["mantelas"].([]any)
	if !ok {
		if obj["mantelas"] == nil {
			d.fail("mantelas", "required")
		} else {
			d.fail("mantelas", "must be an array, not "+kindOf(obj["mantelas"]))
		}
		return nil
	}
	docs := make([]*Document, 0, len(items))
	for i, item := range items {
		before := len(d.issues) + d.omitted
		doc := d.document(item, indexPath("mantelas", i))
		if len(d.issues)+d.omitted == before {
			docs = append(docs, doc)
		}
	}
	return docs
}

func (d *decoder) document(value any, path string) *Document {
	obj, ok := value.(map[string]any)
	if !ok {
		d.fail(path, "must be an object, not "+kindOf(value))
		return nil
	}
	doc := &Document{
		Schema:  d.optString(obj, "$schema", path),
		Version: d.optString(obj, "version", path),
	}
	aboutMePath := joinPath(path, "aboutMe")
	if aboutMe, ok := d.object(obj, "aboutMe", path, true); ok {
		doc.AboutMe = d.aboutMe(aboutMe, aboutMePath)
	}
	if items, ok := d.array(obj, "extensions", path); ok {
		doc.Extensions = make([]Extension, 0, len(items))
		for i, item := range items {
			itemPath := indexPath(joinPath(path, "extensions"), i)
			if itemObj, ok := d.itemObject(item, itemPath); ok {
				doc.Extensions = append(doc.Extensions, d.extension(itemObj, itemPath))
			}
		}
	}
	if items, ok := d.array(obj, "providers", path); ok {
		doc.Providers = make([]Provider, 0, len(items))
		for i, item := range items {
			itemPath := indexPath(joinPath(path, "providers"), i)
			if itemObj, ok := d.itemObject(item, itemPath); ok {
				doc.Providers = append(doc.Providers, d.provider(itemObj, itemPath))
			}
		}
	}
	return doc
}

func (d *decoder) aboutMe(obj map[string]any, path string) AboutMe {
	aboutMe := AboutMe{
		Name:        d.optString(obj, "name", path),
		Identifier:  d.identifier(obj, "identifier", path, true),
		SIPURI:      d.stringArray(obj, "sipUri", path),
		Unavailable: d.optBool(obj, "unavailable", path),
		Image:       d.optString(obj, "image", path),
		SIPUsername: d.optString(obj, "sipUsername", path),
		SIPPassword: d.optString(obj, "sipPassword", path),
		SIPServer:   d.optString(obj, "sipServer", path),
		SIPPort:     d.optString(obj, "sipPort", path),
	}
	prefixPath := joinPath(path, "preferredPrefix")
	switch value := obj["preferredPrefix"].(type) {
	case nil:
	case string:
		if d.checkPreferredPrefix(value, prefixPath) {
			aboutMe.PreferredPrefix = []string{value}
		}
	case []any:
		aboutMe.PreferredPrefix = make([]string, 0, len(value))
		for i, item := range value {
			itemPath := indexPath(prefixPath, i)
			prefix, ok := item.(string)
			if !ok {
				d.fail(itemPath, "must be a string, not "+kindOf(item))
				continue
			}
			if d.checkPreferredPrefix(prefix, itemPath) {
				aboutMe.PreferredPrefix = append(aboutMe.PreferredPrefix, prefix)
			}
		}
	default:
		d.fail(prefixPath, "must be a string or an array of strings, not "+kindOf(value))
	}
	if geo, ok := d.object(obj, "geolocationCoordinates", path, false); ok {
		aboutMe.GeolocationCoordinates = d.geolocation(geo, joinPath(path, "geolocationCoordinates"))
	}
	return aboutMe
}

func (d *decoder) checkPreferredPrefix(prefix, path string) bool {
	if prefix == "" || !isDigits(prefix) {
		d.fail(path, "must be a non-empty string of digits")
		return false
	}
	return true
}

func (d *decoder) extension(obj map[string]any, path string) Extension {
	extension := Extension{
		Name:        d.optString(obj, "name", path),
		Extension:   d.optString(obj, "extension", path),
		Identifier:  d.identifier(obj, "identifier", path, false),
		Type:        d.optString(obj, "type", path),
		Model:       d.optString(obj, "model", path),
		TransferTo:  d.stringArray(obj, "transferTo", path),
		Image:       d.optString(obj, "image", path),
		Unavailable: d.optBool(obj, "unavailable", path),
	}
	switch value := obj["extension"].(type) {
	case nil:
		d.fail(joinPath(path, "extension"), "required")
	case string:
		if !isDialable(value) {
			d.fail(joinPath(path, "extension"), "must be a non-empty string of digits, '*' or '#'")
		}
	}
	if geo, ok := d.object(obj, "geolocationCoordinates", path, false); ok {
		extension.GeolocationCoordinates = d.geolocation(geo, joinPath(path, "geolocationCoordinates"))
	}
	return extension
}

func (d *decoder) provider(obj map[string]any, path string) Provider {
	provider := Provider{
		Name:        d.optString(obj, "name", path),
		Prefix:      d.optString(obj, "prefix", path),
		Identifier:  d.identifier(obj, "identifier", path, true),
		Mantela:     d.optString(obj, "mantela", path),
		Unavailable: d.optBool(obj, "unavailable", path),
	}
	// An empty prefix is tolerated: such entries list a peer that cannot
	// (yet) be dialled, and routing skips them.
	if !isDigits(provider.Prefix) {
		d.fail(joinPath(path, "prefix"), "must be a string of digits")
	}
	return provider
}

func (d *decoder) geolocation(obj map[string]any, path string) *Geolocation {
	return &Geolocation{
		Latitude:         d.optNumber(obj, "latitude", path),
		Longitude:        d.optNumber(obj, "longitude", path),
		Altitude:         d.nullableNumber(obj, "altitude", path),
		Accuracy:         d.nullableNumber(obj, "accuracy", path),
		AltitudeAccuracy: d.nullableNumber(obj, "altitudeAccuracy", path),
	}
}

func (d *decoder) identifier(obj map[string]any, key, path string, required bool) string {
	fieldPath := joinPath(path, key)
	value, present := obj[key]
	if !present || value == nil {
		if required {
			d.fail(fieldPath, "required")
		}
		return ""
	}
	identifier, ok := value.(string)
	if !ok {
		d.fail(fieldPath, "must be a string, not "+kindOf(value))
		return ""
	}
	if !isIdentifier(identifier) {
		d.fail(fieldPath, "must be a non-empty string of printable ASCII without spaces")
		return ""
	}
	return identifier
}

func (d *decoder) object(obj map[string]any, key, path string, required bool) (map[string]any, bool) {
	value := obj[key]
	if value == nil {
		if required {
			d.fail(joinPath(path, key), "required")
		}
		return nil, false
	}
	child, ok := value.(map[string]any)
	if !ok {
		d.fail(joinPath(path, key), "must be an object, not "+kindOf(value))
		return nil, false
	}
	return child, true
}

func (d *decoder) itemObject(value any, path string) (map[string]any, bool) {
	obj, ok := value.(map[string]any)
	if !ok {
		d.fail(path, "must be an object, not "+kindOf(value))
	}
	return obj, ok
}

func (d *decoder) array(obj map[string]any, key, path string) ([]any, bool) {
	value := obj[key]
	if value == nil {
		return nil, false
	}
	items, ok := value.([]any)
	if !ok {
		d.fail(joinPath(path, key), "must be an array, not "+kindOf(value))
	}
	return items, ok
}

func (d *decoder) stringArray(obj map[string]any, key, path string) []string {
	items, ok := d.array(obj, key, path)
	if !ok {
		return nil
	}
	strs := make([]string, 0, len(items))
	for i, item := range items {
		str, ok := item.(string)
		if !ok {
			d.fail(indexPath(joinPath(path, key), i), "must be a string, not "+kindOf(item))
			continue
		}
		strs = append(strs, str)
	}
	return strs
}

func (d *decoder) optString(obj map[string]any, key, path string) string {
	value := obj[key]
	if value == nil {
		return ""
	}
	str, ok := value.(string)
	if !ok {
		d.fail(joinPath(path, key), "must be a string, not "+kindOf(value))
	}
	return str
}

func (d *decoder) optBool(obj map[string]any, key, path string) bool {
	value := obj[key]
	if value == nil {
		return false
	}
	b, ok := value.(bool)
	if !ok {
		d.fail(joinPath(path, key), "must be a boolean, not "+kindOf(value))
	}
	return b
}

func (d *decoder) optNumber(obj map[string]any, key, path string) float64 {
	value := obj[key]
	if value == nil {
		return 0
	}
	number, ok := value.(json.Number)
	if !ok {
		d.fail(joinPath(path, key), "must be a number, not "+kindOf(value))
		return 0
	}
	f, err := strconv.ParseFloat(string(number), 64)
	if err != nil {
		d.fail(joinPath(path, key), "must be a number within float64 range")
		return 0
	}
	return f
}

func (d *decoder) nullableNumber(obj map[string]any, key, path string) *float64 {
	if obj[key] == nil {
		return nil
	}
	f := d.optNumber(obj, key, path)
	return &f
}

func kindOf(value any) string {
	switch value.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number, float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	default:
		return fmt.Sprintf("%T", value)
	}
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func indexPath(parent string, index int) string {
	return parent + "[" + strconv.Itoa(index) + "]"
}

// isDigits reports whether s holds only the digits 0–9; the empty string
// qualifies.
func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isDialable reports whether s is a non-empty string a push-button phone can
// dial.
func isDialable(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && c != '*' && c != '#' {
			return false
		}
	}
	return true
}

// isIdentifier mirrors the schema's identifier pattern ^[\x21-\x7E]+$.
func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
