package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// CacheGet returns what a connector stored under key with its ETag, for a
// conditional request (If-None-Match). ok is false when nothing is stored,
// and also when the value no longer hashes to what the newest snapshot
// record says the run that stored it stored (see SnapshotRecord.Cache):
// an edited cache entry, replayed on a 304, could otherwise make
// unchanged identities look removed. The connector then asks again
// without a condition, which costs a request and never data.
func (s *Store) CacheGet(ctx context.Context, key string) (etag string, value []byte, ok bool, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT etag, value FROM http_cache WHERE key = ?`, key).Scan(&etag, &value)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, false, nil
	}
	if err != nil {
		return "", nil, false, fmt.Errorf("reading the request cache: %w", err)
	}
	want, err := s.cacheHashes(ctx)
	if err != nil {
		return "", nil, false, err
	}
	if h, recorded := want[key]; !recorded || h != hashValue(value) {
		return "", nil, false, nil
	}
	return etag, value, true, nil
}

// CachePut stores value under key with its ETag, replacing what was there.
// The value is what the connector derived from the answer, already stripped
// of secrets: never a raw response body.
func (s *Store) CachePut(ctx context.Context, key, etag string, value []byte) error {
	if s.readOnly {
		return fmt.Errorf("%w: cannot cache in %s", ErrReadOnly, s.path)
	}
	_, err := s.execWaiting(ctx, "", `INSERT INTO http_cache (key, etag, value, stored_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET etag = excluded.etag, value = excluded.value, stored_at = excluded.stored_at`,
		key, etag, value, formatTime(s.now()))
	if err != nil {
		return fmt.Errorf("writing the request cache: %w", err)
	}
	// Remembered for the record of the snapshot that finishes next, so
	// that it need not read every value back.
	s.cacheMu.Lock()
	if s.cachePut == nil {
		s.cachePut = map[string]string{}
	}
	s.cachePut[key] = hashValue(value)
	s.cacheMu.Unlock()
	return nil
}
