using System.Buffers;
using System.Collections.Concurrent;

namespace AbilisFast.Server.Transport;

/// <summary>
/// A memory pool of fixed-size pinned blocks (4 KiB for <see cref="Instance"/>) whose owner objects
/// are reused, so renting and returning a buffer allocates nothing in the steady state
/// (MemoryPool&lt;byte&gt;.Shared allocates a new owner object per rent). Larger requests get a
/// one-off block that is not pooled. <see cref="Instance"/> keeps what it has handed out at its
/// peak; <see cref="Bulk"/> keeps at most <see cref="BulkKept"/> free blocks and lets the rest go.
/// </summary>
internal sealed class BlockMemoryPool : MemoryPool<byte>
{
    public const int BlockSize = 4096;

    /// <summary>The receive block of a session while a message body streams in (DATA, BDAT).</summary>
    public const int BulkBlockSize = 64 * 1024;

    /// <summary>Free bulk blocks kept for the next transfers (4 MiB); more are left to the GC.</summary>
    public const int BulkKept = 64;

    private readonly ConcurrentQueue<Block> _free = new();
    private readonly int _blockSize;
    private readonly int _maxFree;
    private int _freeCount;

    private BlockMemoryPool(int blockSize, int maxFree)
    {
        _blockSize = blockSize;
        _maxFree = maxFree;
    }

    public static BlockMemoryPool Instance { get; } = new(BlockSize, int.MaxValue);

    /// <summary>64 KiB blocks for message bodies: a 10 MB body takes about 160 receives instead of 2,500.</summary>
    public static BlockMemoryPool Bulk { get; } = new(BulkBlockSize, BulkKept);

    public override int MaxBufferSize => _blockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        if (minBufferSize > _blockSize)
        {
            return new Block(null, GC.AllocateUninitializedArray<byte>(minBufferSize));
        }

        if (_free.TryDequeue(out Block? block))
        {
            Interlocked.Decrement(ref _freeCount);
            return block;
        }

        return new Block(this, GC.AllocateUninitializedArray<byte>(_blockSize, pinned: true));
    }

    private void Return(Block block)
    {
        if (Interlocked.Increment(ref _freeCount) > _maxFree)
        {
            Interlocked.Decrement(ref _freeCount);
            return;
        }

        _free.Enqueue(block);
    }

    protected override void Dispose(bool disposing)
    {
    }

    private sealed class Block(BlockMemoryPool? pool, byte[] array) : IMemoryOwner<byte>
    {
        public Memory<byte> Memory { get; } = array;

        /// <summary>Returns the block to its pool (the pipe disposes each block exactly once per rent).</summary>
        public void Dispose() => pool?.Return(this);
    }
}
