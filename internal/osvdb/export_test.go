package osvdb

// SetBatchHook sets a function called after each batch an import writes,
// with the number of batches written so far (nil: none).
func SetBatchHook(f func(n int)) { batchHook = f }
