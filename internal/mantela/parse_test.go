package mantela

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseExample(t *testing.T) {
	doc, err := Parse(readShared(t, "example.json"), "example.json")
	require.NoError(t, err)

	assert.Equal(t, SchemaURL, doc.Schema)
	assert.Equal(t, "0.1.x", doc.Version)
	assert.Equal(t, "Example manTELa", doc.AboutMe.Name)
	assert.Equal(t, "b0ce607e-a8be-470b-9506-2f9aae1ea317", doc.AboutMe.Identifier)
	assert.Equal(t, []string{"0150", "150"}, doc.AboutMe.PreferredPrefix)
	assert.Len(t, doc.AboutMe.SIPURI, 2)
	require.NotNil(t, doc.AboutMe.GeolocationCoordinates)
	assert.InDelta(t, 35.685, doc.AboutMe.GeolocationCoordinates.Latitude, 0.001)
	require.NotNil(t, doc.AboutMe.GeolocationCoordinates.Accuracy)
	assert.Nil(t, doc.AboutMe.GeolocationCoordinates.Altitude)
	assert.Equal(t, "https://github.com/tkytel.png", doc.AboutMe.Image)

	require.Len(t, doc.Extensions, 4)
	assert.Equal(t, Extension{Name: "Test Call", Extension: "1234", Identifier: "E4NZJ4XC", Type: "information"}, doc.Extensions[0])
	assert.True(t, doc.Extensions[2].Unavailable)
	assert.Equal(t, []string{"78DF9SLZ", "77MC2DCW"}, doc.Extensions[3].TransferTo)

	require.Len(t, doc.Providers, 3)
	assert.True(t, doc.Providers[1].Unavailable)
	assert.Equal(t, "https://sleep.example.com/.well-known/mantela.json", doc.Providers[2].Mantela)
	assert.Equal(t, []string{"0"}, doc.SelfPrefixes())
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		parser  Parser
		wantErr error
		// wantIssue must appear in the error message.
		wantIssue string
	}{
		{name: "empty input", input: "", wantErr: ErrSyntax, wantIssue: "empty input"},
		{name: "syntax error", input: `{"aboutMe": {`, wantErr: ErrSyntax, wantIssue: "invalid JSON"},
		{name: "syntax error offset", input: `{"aboutMe": x}`, wantErr: ErrSyntax, wantIssue: "offset 13"},
		{name: "trailing data", input: `{"aboutMe": {"identifier": "a"}} {}`, wantErr: ErrSyntax, wantIssue: "data after the top-level value"},
		{name: "array", input: `[]`, wantErr: ErrInvalid, wantIssue: "must be an object, not array"},
		{name: "string", input: `"mantela"`, wantErr: ErrInvalid, wantIssue: "must be an object, not string"},
		{name: "null", input: `null`, wantErr: ErrInvalid, wantIssue: "must be an object, not null"},
		{name: "missing aboutMe", input: `{"providers": []}`, wantErr: ErrInvalid, wantIssue: "aboutMe: required"},
		{name: "aboutMe not object", input: `{"aboutMe": []}`, wantErr: ErrInvalid, wantIssue: "aboutMe: must be an object, not array"},
		{name: "missing identifier", input: `{"aboutMe": {"name": "x"}}`, wantErr: ErrInvalid, wantIssue: "aboutMe.identifier: required"},
		{name: "null identifier", input: `{"aboutMe": {"identifier": null}}`, wantErr: ErrInvalid, wantIssue: "aboutMe.identifier: required"},
		{name: "identifier with space", input: `{"aboutMe": {"identifier": "a b"}}`, wantErr: ErrInvalid, wantIssue: "aboutMe.identifier: must be a non-empty string of printable ASCII"},
		{name: "identifier not ASCII", input: `{"aboutMe": {"identifier": "黒電話"}}`, wantErr: ErrInvalid, wantIssue: "aboutMe.identifier: must be a non-empty string of printable ASCII"},
		{name: "identifier number", input: `{"aboutMe": {"identifier": 7}}`, wantErr: ErrInvalid, wantIssue: "aboutMe.identifier: must be a string, not number"},
		{name: "preferredPrefix number", input: `{"aboutMe": {"identifier": "a", "preferredPrefix": 150}}`, wantErr: ErrInvalid, wantIssue: "aboutMe.preferredPrefix: must be a string or an array of strings, not number"},
		{name: "preferredPrefix item", input: `{"aboutMe": {"identifier": "a", "preferredPrefix": ["0150", 5]}}`, wantErr: ErrInvalid, wantIssue: "aboutMe.preferredPrefix[1]: must be a string, not number"},
		{name: "preferredPrefix letters", input: `{"aboutMe": {"identifier": "a", "preferredPrefix": "01a"}}`, wantErr: ErrInvalid, wantIssue: "aboutMe.preferredPrefix: must be a non-empty string of digits"},
		{name: "sipUri string", input: `{"aboutMe": {"identifier": "a", "sipUri": "sip:a"}}`, wantErr: ErrInvalid, wantIssue: "aboutMe.sipUri: must be an array, not string"},
		{name: "unavailable string", input: `{"aboutMe": {"identifier": "a", "unavailable": "yes"}}`, wantErr: ErrInvalid, wantIssue: "aboutMe.unavailable: must be a boolean, not string"},
		{name: "latitude string", input: `{"aboutMe": {"identifier": "a", "geolocationCoordinates": {"latitude": "35"}}}`, wantErr: ErrInvalid, wantIssue: "aboutMe.geolocationCoordinates.latitude: must be a number, not string"},
		{name: "latitude overflow", input: `{"aboutMe": {"identifier": "a", "geolocationCoordinates": {"latitude": 1e999}}}`, wantErr: ErrInvalid, wantIssue: "latitude: must be a number within float64 range"},
		{name: "extensions not array", input: `{"aboutMe": {"identifier": "a"}, "extensions": "1"}`, wantErr: ErrInvalid, wantIssue: "extensions: must be an array, not string"},
		{name: "extension item not object", input: `{"aboutMe": {"identifier": "a"}, "extensions": [1]}`, wantErr: ErrInvalid, wantIssue: "extensions[0]: must be an object, not number"},
		{name: "extension missing number", input: `{"aboutMe": {"identifier": "a"}, "extensions": [{"name": "x"}]}`, wantErr: ErrInvalid, wantIssue: "extensions[0].extension: required"},
		{name: "extension letters", input: `{"aboutMe": {"identifier": "a"}, "extensions": [{"extension": "12x"}]}`, wantErr: ErrInvalid, wantIssue: "extensions[0].extension: must be a non-empty string of digits, '*' or '#'"},
		{name: "transferTo item", input: `{"aboutMe": {"identifier": "a"}, "extensions": [{"extension": "1", "transferTo": [true]}]}`, wantErr: ErrInvalid, wantIssue: "extensions[0].transferTo[0]: must be a string, not boolean"},
		{
			name:      "provider prefix letters",
			input:     `{"aboutMe": {"identifier": "a"}, "providers": [{"identifier": "b", "prefix": "1"}, {"identifier": "c", "prefix": "2"}, {"identifier": "d", "prefix": "3"}, {"identifier": "e", "prefix": "4#"}]}`,
			wantErr:   ErrInvalid,
			wantIssue: "mantela: test.json: providers[3].prefix: must be a string of digits",
		},
		{name: "provider prefix number", input: `{"aboutMe": {"identifier": "a"}, "providers": [{"identifier": "b", "prefix": 1}]}`, wantErr: ErrInvalid, wantIssue: "providers[0].prefix: must be a string, not number"},
		{name: "provider missing identifier", input: `{"aboutMe": {"identifier": "a"}, "providers": [{"prefix": "1"}]}`, wantErr: ErrInvalid, wantIssue: "providers[0].identifier: required"},
		{name: "provider mantela object", input: `{"aboutMe": {"identifier": "a"}, "providers": [{"identifier": "b", "prefix": "1", "mantela": {}}]}`, wantErr: ErrInvalid, wantIssue: "providers[0].mantela: must be a string, not object"},
		{name: "too large", input: `{"aboutMe": {"identifier": "a", "name": "` + strings.Repeat("x", 200) + `"}}`, parser: Parser{MaxBytes: 100}, wantErr: ErrTooLarge, wantIssue: "limit 100"},
		{name: "too deep", input: strings.Repeat("[", 40) + strings.Repeat("]", 40), wantErr: ErrTooDeep, wantIssue: "more than 32 levels"},
		{name: "too deep in unknown field", input: `{"aboutMe": {"identifier": "a"}, "x": ` + strings.Repeat(`{"a":`, 10) + "1" + strings.Repeat("}", 10) + "}", parser: Parser{MaxNesting: 8}, wantErr: ErrTooDeep},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := tt.parser.Parse([]byte(tt.input), "test.json")
			require.Error(t, err)
			assert.Nil(t, doc)
			assert.ErrorIs(t, err, tt.wantErr)
			var parseErr *ParseError
			require.ErrorAs(t, err, &parseErr)
			assert.Equal(t, "test.json", parseErr.Source)
			assert.Contains(t, err.Error(), tt.wantIssue)
		})
	}
}

func TestParseCollectsIssues(t *testing.T) {
	var providers strings.Builder
	for i := range 30 {
		if i > 0 {
			providers.WriteString(",")
		}
		providers.WriteString(`{"identifier": "b", "prefix": "x"}`)
	}
	_, err := Parse([]byte(`{"aboutMe": {}, "providers": [`+providers.String()+`]}`), "")
	var parseErr *ParseError
	require.ErrorAs(t, err, &parseErr)
	assert.Len(t, parseErr.Issues, maxIssues)
	assert.Equal(t, 31-maxIssues, parseErr.Omitted)
	assert.Equal(t, Issue{Path: "aboutMe.identifier", Problem: "required"}, parseErr.Issues[0])
	assert.Contains(t, err.Error(), "(and 11 more)")
}

func TestParseTolerates(t *testing.T) {
	tests := []struct {
		name  string
		input string
		check func(t *testing.T, doc *Document)
	}{
		{
			name:  "minimal",
			input: `{"aboutMe": {"identifier": "a"}}`,
			check: func(t *testing.T, doc *Document) {
				assert.Equal(t, "a", doc.AboutMe.Identifier)
				assert.Nil(t, doc.Providers)
			},
		},
		{
			name:  "unknown fields everywhere",
			input: `{"future": {"x": [1, 2]}, "aboutMe": {"identifier": "a", "colour": "black"}, "providers": [{"identifier": "b", "prefix": "1", "trunk": "sip"}]}`,
			check: func(t *testing.T, doc *Document) {
				assert.Equal(t, []Provider{{Identifier: "b", Prefix: "1"}}, doc.Providers)
			},
		},
		{
			name:  "nulls for optional fields",
			input: `{"version": null, "aboutMe": {"identifier": "a", "name": null, "sipUri": null, "geolocationCoordinates": {"latitude": 1, "longitude": 2, "altitude": null}}, "extensions": null}`,
			check: func(t *testing.T, doc *Document) {
				assert.Empty(t, doc.AboutMe.Name)
				require.NotNil(t, doc.AboutMe.GeolocationCoordinates)
				assert.Nil(t, doc.AboutMe.GeolocationCoordinates.Altitude)
			},
		},
		{
			name:  "preferredPrefix as a single string",
			input: `{"aboutMe": {"identifier": "a", "preferredPrefix": "0150"}}`,
			check: func(t *testing.T, doc *Document) {
				assert.Equal(t, []string{"0150"}, doc.AboutMe.PreferredPrefix)
			},
		},
		{
			name:  "empty provider prefix",
			input: `{"aboutMe": {"identifier": "a"}, "providers": [{"identifier": "b", "prefix": ""}]}`,
			check: func(t *testing.T, doc *Document) {
				assert.Empty(t, doc.Providers[0].Prefix)
			},
		},
		{
			name:  "unknown extension type and feature code",
			input: `{"aboutMe": {"identifier": "a"}, "extensions": [{"extension": "*98#", "type": "videophone"}]}`,
			check: func(t *testing.T, doc *Document) {
				assert.Equal(t, "videophone", doc.Extensions[0].Type)
			},
		},
		{
			name:  "byte order mark",
			input: "\xef\xbb\xbf" + `{"aboutMe": {"identifier": "a"}}`,
			check: func(t *testing.T, doc *Document) {
				assert.Equal(t, "a", doc.AboutMe.Identifier)
			},
		},
		{
			name:  "brackets inside strings do not count as nesting",
			input: `{"aboutMe": {"identifier": "a", "name": "` + strings.Repeat(`[{\"`, 50) + `"}}`,
			check: func(t *testing.T, doc *Document) {
				assert.True(t, strings.HasPrefix(doc.AboutMe.Name, `[{"`))
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := Parse([]byte(tt.input), "test.json")
			require.NoError(t, err)
			tt.check(t, doc)
		})
	}
}

func TestParseRoundTrip(t *testing.T) {
	original := readShared(t, "example.json")
	doc, err := Parse(original, "example.json")
	require.NoError(t, err)
	first := mustMarshal(t, doc)
	again, err := Parse(first, "marshalled")
	require.NoError(t, err)
	assert.Equal(t, string(first), string(mustMarshal(t, again)))
	assert.Equal(t, doc, again)
}

func TestParseCollection(t *testing.T) {
	docs, err := Parser{}.ParseCollection(readShared(t, "example.mantelas.json"), "example.mantelas.json")
	require.NoError(t, err)
	require.Len(t, docs, 2)
	assert.Equal(t, "HogeTel", docs[0].AboutMe.Name)
	assert.Equal(t, "01K5NQ22CRQVM18R4X60BYC8AN", docs[1].AboutMe.Identifier)
	assert.Equal(t, []string{"0"}, docs[1].SelfPrefixes())

	t.Run("bad item keeps the good ones", func(t *testing.T) {
		docs, err := Parser{}.ParseCollection([]byte(`{"mantelas": [{"aboutMe": {"identifier": "a"}}, {"aboutMe": {}}]}`), "c.json")
		require.Len(t, docs, 1)
		assert.ErrorIs(t, err, ErrInvalid)
		assert.Contains(t, err.Error(), "mantelas[1].aboutMe.identifier: required")
	})
	t.Run("missing mantelas", func(t *testing.T) {
		_, err := Parser{}.ParseCollection([]byte(`{}`), "c.json")
		assert.ErrorContains(t, err, "mantelas: required")
	})
}

func TestParseAny(t *testing.T) {
	tests := []struct {
		name      string
		input     []byte
		wantNames []string
		wantErr   error
	}{
		{name: "document", input: readShared(t, "example.json"), wantNames: []string{"Example manTELa"}},
		{name: "collection", input: readShared(t, "example.mantelas.json"), wantNames: []string{"HogeTel", "FUGATEL"}},
		{name: "neither", input: []byte(`{"x": 1}`), wantErr: ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs, err := Parser{}.ParseAny(tt.input, tt.name)
			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			var names []string
			for _, doc := range docs {
				names = append(names, doc.AboutMe.Name)
			}
			assert.Equal(t, tt.wantNames, names)
		})
	}
}

func TestNestingExceeds(t *testing.T) {
	tests := []struct {
		input string
		limit int
		want  bool
	}{
		{input: `{}`, limit: 1, want: false},
		{input: `{"a": []}`, limit: 1, want: true},
		{input: `{"a": "[[[["}`, limit: 1, want: false},
		{input: `{"a": "\"[[["}`, limit: 1, want: false},
		{input: `{"a": "\\"}`, limit: 1, want: false},
		{input: `[[], [], []]`, limit: 2, want: false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, nestingExceeds([]byte(tt.input), tt.limit), tt.input)
	}
}

func TestParseErrorIsClassifiable(t *testing.T) {
	_, err := Parser{MaxBytes: 10}.Parse(bytes.Repeat([]byte(" "), 11), "big")
	assert.True(t, errors.Is(err, ErrTooLarge))
	assert.False(t, errors.Is(err, ErrInvalid))
}
