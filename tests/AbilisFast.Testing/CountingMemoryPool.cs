namespace AbilisFast.Server.Tests.Support;

/// <summary>A memory pool that counts the blocks currently rented from it.</summary>
internal sealed class CountingMemoryPool : MemoryPool<byte>
{
    private int _outstanding;

    public int Outstanding => Volatile.Read(ref _outstanding);

    public override int MaxBufferSize => int.MaxValue;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        Interlocked.Increment(ref _outstanding);
        return new Owner(this, ArrayPool<byte>.Shared.Rent(minBufferSize <= 0 ? 4096 : minBufferSize));
    }

    protected override void Dispose(bool disposing)
    {
    }

    private sealed class Owner(CountingMemoryPool pool, byte[] array) : IMemoryOwner<byte>
    {
        private byte[]? _array = array;

        public Memory<byte> Memory => _array ?? throw new ObjectDisposedException(nameof(Owner));

        public void Dispose()
        {
            byte[]? array = Interlocked.Exchange(ref _array, null);
            if (array is not null)
            {
                ArrayPool<byte>.Shared.Return(array);
                Interlocked.Decrement(ref pool._outstanding);
            }
        }
    }
}
