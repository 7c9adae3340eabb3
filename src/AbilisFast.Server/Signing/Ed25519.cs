using System.Runtime.InteropServices;

namespace AbilisFast.Server.Signing;

/// <summary>
/// Ed25519 (RFC 8032) from the OpenSSL libcrypto the .NET runtime already loads for its own
/// cryptography on Linux: the BCL has no Ed25519, and a managed package would cost more than these
/// few entry points. The library and its functions are found at run time (libcrypto.so.3, then
/// 1.1; Ed25519 needs OpenSSL 1.1.1 or later) and called through unmanaged function pointers, so
/// nothing is marshalled and the AOT build needs no binding for them; where they are missing,
/// <see cref="IsAvailable"/> is false and <see cref="UnavailableReason"/> says why.
/// </summary>
internal static unsafe class Ed25519
{
    public const int SeedLength = 32;
    public const int PublicKeyLength = 32;
    public const int SignatureLength = 64;

    /// <summary>NID_ED25519 = EVP_PKEY_ED25519 in OpenSSL's objects.h.</summary>
    private const int EvpPkeyEd25519 = 1087;

    private static readonly Lazy<Api?> Loaded = new(Load);
    private static string? _unavailable;

    public static bool IsAvailable => Loaded.Value is not null;

    /// <summary>Why Ed25519 cannot be used here (null when it can).</summary>
    public static string? UnavailableReason => IsAvailable ? null : _unavailable;

    /// <summary>The private key made from its 32-octet seed (RFC 8032 5.1.5), for <see cref="Sign"/> and <see cref="PublicKey"/>.</summary>
    public static Ed25519Key Import(ReadOnlySpan<byte> seed)
    {
        if (seed.Length != SeedLength)
        {
            throw new ArgumentException("an Ed25519 private key is 32 octets", nameof(seed));
        }

        Api api = Loaded.Value ?? throw new PlatformNotSupportedException(_unavailable);
        nint key;
        fixed (byte* p = seed)
        {
            key = api.NewRawPrivateKey(EvpPkeyEd25519, 0, p, (nuint)seed.Length);
        }

        return key == 0 ? throw new System.Security.Cryptography.CryptographicException("OpenSSL refused the Ed25519 key") : new Ed25519Key(key, api.FreeKey);
    }

    /// <summary>The 32-octet public key of <paramref name="key"/>.</summary>
    public static byte[] PublicKey(Ed25519Key key)
    {
        Api api = Loaded.Value!;
        byte[] publicKey = new byte[PublicKeyLength];
        nuint length = PublicKeyLength;
        bool added = false;
        try
        {
            key.DangerousAddRef(ref added);
            fixed (byte* p = publicKey)
            {
                if (api.GetRawPublicKey(key.DangerousGetHandle(), p, &length) != 1 || length != PublicKeyLength)
                {
                    throw new System.Security.Cryptography.CryptographicException("OpenSSL did not give the Ed25519 public key");
                }
            }
        }
        finally
        {
            if (added)
            {
                key.DangerousRelease();
            }
        }

        return publicKey;
    }

    /// <summary>PureEdDSA: the 64-octet signature of <paramref name="message"/>.</summary>
    public static byte[] Sign(Ed25519Key key, ReadOnlySpan<byte> message)
    {
        Api api = Loaded.Value!;
        byte[] signature = new byte[SignatureLength];
        nint context = api.NewDigestContext();
        if (context == 0)
        {
            throw new System.Security.Cryptography.CryptographicException("EVP_MD_CTX_new failed (out of memory)");
        }

        bool added = false;
        try
        {
            key.DangerousAddRef(ref added);
            nuint length = SignatureLength;
            fixed (byte* s = signature)
            fixed (byte* m = message)
            {
                if (api.DigestSignInit(context, 0, 0, 0, key.DangerousGetHandle()) != 1
                    || api.DigestSign(context, s, &length, m, (nuint)message.Length) != 1
                    || length != SignatureLength)
                {
                    throw new System.Security.Cryptography.CryptographicException("OpenSSL could not make the Ed25519 signature");
                }
            }
        }
        finally
        {
            api.FreeDigestContext(context);
            if (added)
            {
                key.DangerousRelease();
            }
        }

        return signature;
    }

    private static Api? Load()
    {
        foreach (string name in (ReadOnlySpan<string>)["libcrypto.so.3", "libcrypto.so.1.1", "libcrypto.so"])
        {
            if (!NativeLibrary.TryLoad(name, typeof(Ed25519).Assembly, DllImportSearchPath.SafeDirectories, out nint library))
            {
                continue;
            }

            if (NativeLibrary.TryGetExport(library, "EVP_PKEY_new_raw_private_key", out nint newKey)
                && NativeLibrary.TryGetExport(library, "EVP_PKEY_get_raw_public_key", out nint rawPublic)
                && NativeLibrary.TryGetExport(library, "EVP_PKEY_free", out nint freeKey)
                && NativeLibrary.TryGetExport(library, "EVP_MD_CTX_new", out nint newContext)
                && NativeLibrary.TryGetExport(library, "EVP_MD_CTX_free", out nint freeContext)
                && NativeLibrary.TryGetExport(library, "EVP_DigestSignInit", out nint signInit)
                && NativeLibrary.TryGetExport(library, "EVP_DigestSign", out nint sign))
            {
                return new Api(
                    (delegate* unmanaged<int, nint, byte*, nuint, nint>)newKey,
                    (delegate* unmanaged<nint, byte*, nuint*, int>)rawPublic,
                    (delegate* unmanaged<nint, void>)freeKey,
                    (delegate* unmanaged<nint>)newContext,
                    (delegate* unmanaged<nint, void>)freeContext,
                    (delegate* unmanaged<nint, nint, nint, nint, nint, int>)signInit,
                    (delegate* unmanaged<nint, byte*, nuint*, byte*, nuint, int>)sign);
            }

            _unavailable = $"{name} has no Ed25519 (OpenSSL 1.1.1 or later is needed)";
            return null;
        }

        _unavailable = "no OpenSSL libcrypto (libcrypto.so.3 or .so.1.1) found";
        return null;
    }

    private sealed class Api(
        delegate* unmanaged<int, nint, byte*, nuint, nint> newRawPrivateKey,
        delegate* unmanaged<nint, byte*, nuint*, int> getRawPublicKey,
        delegate* unmanaged<nint, void> freeKey,
        delegate* unmanaged<nint> newDigestContext,
        delegate* unmanaged<nint, void> freeDigestContext,
        delegate* unmanaged<nint, nint, nint, nint, nint, int> digestSignInit,
        delegate* unmanaged<nint, byte*, nuint*, byte*, nuint, int> digestSign)
    {
        public nint NewRawPrivateKey(int type, nint engine, byte* key, nuint length) => newRawPrivateKey(type, engine, key, length);

        public int GetRawPublicKey(nint key, byte* output, nuint* length) => getRawPublicKey(key, output, length);

        public delegate* unmanaged<nint, void> FreeKey => freeKey;

        public nint NewDigestContext() => newDigestContext();

        public void FreeDigestContext(nint context) => freeDigestContext(context);

        public int DigestSignInit(nint context, nint keyContext, nint digest, nint engine, nint key) => digestSignInit(context, keyContext, digest, engine, key);

        public int DigestSign(nint context, byte* signature, nuint* length, byte* message, nuint messageLength) => digestSign(context, signature, length, message, messageLength);
    }
}

/// <summary>An OpenSSL EVP_PKEY holding an Ed25519 private key, freed with EVP_PKEY_free.</summary>
internal sealed unsafe class Ed25519Key : SafeHandle
{
    private readonly delegate* unmanaged<nint, void> _free;

    internal Ed25519Key(nint handle, delegate* unmanaged<nint, void> free)
        : base(0, ownsHandle: true)
    {
        _free = free;
        SetHandle(handle);
    }

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle()
    {
        _free(handle);
        return true;
    }
}
