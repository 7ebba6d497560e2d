package mantela

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newSharedValidator(t *testing.T) *SchemaValidator {
	t.Helper()
	validator, err := NewSchemaValidator(filepath.Join(sharedMantelaDir(t), "0.1.x"))
	require.NoError(t, err)
	return validator
}

func TestSchemaValidatorExamples(t *testing.T) {
	validator := newSharedValidator(t)
	assert.NoError(t, validator.Validate(readShared(t, "example.json")))
	assert.NoError(t, validator.ValidateCollection(readShared(t, "example.mantelas.json")))

	// What Parse keeps must still satisfy the schema once marshalled, since
	// kurodenwa publishes its own document that way.
	doc, err := Parse(readShared(t, "example.json"), "example.json")
	require.NoError(t, err)
	assert.NoError(t, validator.ValidateDocument(doc))
}

func TestSchemaValidatorRejects(t *testing.T) {
	validator := newSharedValidator(t)
	tests := []struct {
		name     string
		input    string
		wantText string
	}{
		{name: "not JSON", input: `{`, wantText: "invalid JSON"},
		{name: "missing version", input: `{"aboutMe": {"identifier": "a", "name": "A", "preferredPrefix": "1"}, "extensions": [], "providers": []}`, wantText: "version"},
		{name: "wrong version", input: `{"version": "1.0.0", "aboutMe": {"identifier": "a", "name": "A", "preferredPrefix": "1"}, "extensions": [], "providers": []}`, wantText: "version"},
		{name: "missing name", input: `{"version": "0.1.0", "aboutMe": {"identifier": "a", "preferredPrefix": "1"}, "extensions": [], "providers": []}`, wantText: "name"},
		{name: "unknown extension type", input: `{"version": "0.1.0", "aboutMe": {"identifier": "a", "name": "A", "preferredPrefix": "1"}, "extensions": [{"name": "x", "extension": "1", "type": "videophone"}], "providers": []}`, wantText: "/extensions/0/type"},
		{name: "main without transferTo", input: `{"version": "0.1.0", "aboutMe": {"identifier": "a", "name": "A", "preferredPrefix": "1"}, "extensions": [{"name": "x", "extension": "1", "type": "main"}], "providers": []}`, wantText: "transferTo"},
		{name: "provider without mantela", input: `{"version": "0.1.0", "aboutMe": {"identifier": "a", "name": "A", "preferredPrefix": "1"}, "extensions": [], "providers": [{"name": "B", "prefix": "1", "identifier": "b"}]}`, wantText: "mantela"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validator.Validate([]byte(tt.input))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantText)
		})
	}
}

func TestNewSchemaValidatorErrors(t *testing.T) {
	source := filepath.Join(sharedMantelaDir(t), "0.1.x")
	copyFiles := func(t *testing.T, names ...string) string {
		t.Helper()
		dir := t.TempDir()
		for _, name := range names {
			data, err := os.ReadFile(filepath.Join(source, name))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o600))
		}
		return dir
	}
	tests := []struct {
		name     string
		dir      func(t *testing.T) string
		wantText string
	}{
		{name: "empty directory", dir: func(t *testing.T) string { return t.TempDir() }, wantText: "mantela.schema.json not found"},
		{
			// A missing sub-schema must fail rather than be fetched from
			// tkytel.github.io.
			name:     "missing sub-schema",
			dir:      func(t *testing.T) string { return copyFiles(t, "mantela.schema.json", "version.json") },
			wantText: "not among the local schema files",
		},
		{
			name: "file without $id",
			dir: func(t *testing.T) string {
				dir := copyFiles(t, "mantela.schema.json")
				require.NoError(t, os.WriteFile(filepath.Join(dir, "other.json"), []byte(`{"type": "object"}`), 0o600))
				return dir
			},
			wantText: "has no $id",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSchemaValidator(tt.dir(t))
			assert.ErrorContains(t, err, tt.wantText)
		})
	}

	t.Run("collection schema optional", func(t *testing.T) {
		dir := copyFiles(t, "mantela.schema.json", "version.json", "aboutme.json", "extensions.json", "providers.json")
		validator, err := NewSchemaValidator(dir)
		require.NoError(t, err)
		assert.ErrorContains(t, validator.ValidateCollection([]byte(`{"mantelas": []}`)), "mantelas.schema.json")
	})
}
