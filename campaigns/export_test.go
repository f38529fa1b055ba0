package campaigns

// BeforeDecideLock sets a function decideChecked runs between its reads
// and the write lock, where another writer may change what it read; the
// returned function restores the old one.
func BeforeDecideLock(f func()) (restore func()) {
	old := beforeDecideLock
	beforeDecideLock = f
	return func() { beforeDecideLock = old }
}
