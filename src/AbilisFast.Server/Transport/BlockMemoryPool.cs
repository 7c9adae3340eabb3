using System.Buffers;
using System.Collections.Concurrent;

namespace AbilisFast.Server.Transport;

/// <summary>
/// A memory pool of fixed 4 KiB pinned blocks whose owner objects are reused, so renting and
/// returning a buffer allocates nothing in the steady state (MemoryPool&lt;byte&gt;.Shared allocates
/// a new owner object per rent). Larger requests get a one-off block that is not pooled.
/// The pool keeps what it has handed out at its peak; blocks are never freed while it lives.
/// </summary>
internal sealed class BlockMemoryPool : MemoryPool<byte>
{
    public const int BlockSize = 4096;

    private readonly ConcurrentQueue<Block> _free = new();

    public static BlockMemoryPool Instance { get; } = new();

    public override int MaxBufferSize => BlockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        if (minBufferSize > BlockSize)
        {
            return new Block(null, GC.AllocateUninitializedArray<byte>(minBufferSize));
        }

        return _free.TryDequeue(out Block? block) ? block : new Block(this, GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true));
    }

    protected override void Dispose(bool disposing)
    {
    }

    private sealed class Block(BlockMemoryPool? pool, byte[] array) : IMemoryOwner<byte>
    {
        public Memory<byte> Memory { get; } = array;

        /// <summary>Returns the block to its pool (the pipe disposes each block exactly once per rent).</summary>
        public void Dispose() => pool?._free.Enqueue(this);
    }
}
