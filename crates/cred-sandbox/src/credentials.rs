//! Published sandbox credentials. **Test values**: generated for this project, accepted
//! only by the sandbox, worthless anywhere else. Safe to print and commit.

/// Jumdata `appId` the sandbox accepts.
pub const JUMDATA_APP_ID: &str = "credkit-sandbox-app";

/// Jumdata `appSecret` the sandbox signs with (test value, not a real key).
pub const JUMDATA_APP_SECRET: &str = "credkit-sandbox-secret-NOT-A-REAL-KEY";

/// Juhe `key` the sandbox accepts (test value, not a real key).
pub const JUHE_KEY: &str = "credkit-sandbox-juhe-key-NOT-REAL";

/// Licence-platform username (访问标识) the sandbox accepts (test value).
pub const ZZ_LICENSE_USERNAME: &str = "credkit-sandbox-user";

/// Licence-platform password (应用认证信息) the sandbox accepts (test value).
pub const ZZ_LICENSE_PASSWORD: &str = "credkit-sandbox-password-NOT-REAL";

/// Licence-platform OAuth client id the sandbox accepts (the standard's `xxxx-oauth`).
pub const ZZ_LICENSE_CLIENT_ID: &str = "credkit-oauth";

/// Licence-platform OAuth client secret the sandbox accepts (test value).
pub const ZZ_LICENSE_CLIENT_SECRET: &str = "credkit-mobile-NOT-REAL";

/// Alipay app id the sandbox accepts (test value).
pub const ALIPAY_APP_ID: &str = "2021009900000001";

/// The sandbox app's private key (应用私钥), PKCS#8 base64. **Test key generated for this
/// project** (`openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048`); the
/// sandbox holds its public half and accepts only requests signed with it.
pub const ALIPAY_APP_PRIVATE_KEY: &str = "MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQCvrr5FvYA/qDUTkpwAjIVzJGuja8fTxTEG+PrcrsUaNUlRNN/RrYoTtJbXPWmeX4Qrt2smLLNF6vk0tjeisofMmOzuuBvLI0oABU4tqLYsumGrbYVbfwSEaNRsFT22EplUIVPHPdQGcahaLBxjX4RDqcqKLFyllh08UzS9imMhqvMNj5Xuk/MR9XLAS5DDwMq7YJWAElkxUYrpB4859E8kyuqP77iUsT87H31P3fcwhIuZDEFZ6j3sJogrj4TT7pvqCjx6f+ioPd8W9A4OOdhgthT8gKPrMywHyyKrnjQe/BPiPEz0L9/wgC9Gpj+OgiZJTztGlTRwUz3p6c96UUFzAgMBAAECggEADTBZKHMphZ3jHi0LeR8ThaleS050GfnbzGI0swyLz4PglTAa/WrByujrygzaOQGCsqV6bcs9SipxuvtTAevVNg7k+qbnr0Be9dFwJQ1dX84+NthqAoxukmIsUFDn6RtMV3yJBZQmrrUppltZZjxteYbtpaHe8q9qUnUMqI4TExvaSWDwHLUKPdADCCTh4XaKjUK+m4C80c0Xszgay9A2UPxDr61jA6PwoHOVPssKCijEwsSK7zQ3vdTq9TKhBIOtkCJaksDJWxUXjwGuWaFfKwBSpiwddUljcyIeYWE0UjcKAKh8/QCpjEE7WjSTu6Rgj7cCE0MDVA50uTxAR52NQQKBgQDtASzKtGDliHZeYImjIVp1b5Dkcoeq2WfU66wKt/phtabVwH0IHuGiUo0hAOhEkVDD3+UP+FQK+sNVzRBmPObZD8uDV8dWM213hzul2h4q6UkyXIiGA0EsVzWrAa9IG06NVuHZeKCb3oeq2lkicCgr64p2BsUBZksbDoR+Cj3E9wKBgQC9w19i3lqm/Rl32iR6AAlMW1qFb9AuANCoPKOiRktnVgfy419muoxffV+yWcSJJEJnzKZFlT9BZ8d5cIV0zOZaLECp4nEthSEFhuoUXOqEcgpalgsTbTVlBaCgsQgEZVL6R8ohnCZxmlwGHgxI0IFN0lgIkLghMDwgyrHUxlrUZQKBgB2rI/xMEEUrjAXMd+5f4n8I9E5kt+7/QCw7RFIjLcjFgJkJe51koEI9q0USZAERX9blVDtnjr3BHmrDPOZPgWZyv7s1ZdK4pV9tIl5kq5obkfon8z8zcRkn4aQClfqk0HSJB8S9gP2CIeGVa8sP1zeISND1j/vY3lYIvzU3+vuJAoGACMmyciav9gnEkytUAx5bT+DvKTzLXEYHY7MjNNGijk+KoLHs6hn7hDSPKPhFRMCcHqh4jsJhoorGzxXp6EXQ6R4hhHyLFzuSEupzjqva5HVPi3BlZOnqzhnbnXV1VJbIp/SJJNNRaHNojZP4p6qYQl1aXFMvY8ITFsWsRJlG/Y0CgYB9uMN+5KVQEPqvic8n3SNFUOPOr47lTJpTyvG/9UiX/N748z1GSvw7xPNNg1QOpCxlR9FemL5TDKTNNeQom6uf10+Yfgntjh4MFh3lIdEe1u+zsxJLVOLgh7PEc51ZwBIYNY5i5XTAV6x2XVmPrwPnpx2YX+I+6XrNU4lH54Yxhw==";

/// The public half of [`ALIPAY_APP_PRIVATE_KEY`] (应用公钥), SubjectPublicKeyInfo base64.
pub const ALIPAY_APP_PUBLIC_KEY: &str = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAr66+Rb2AP6g1E5KcAIyFcyRro2vH08UxBvj63K7FGjVJUTTf0a2KE7SW1z1pnl+EK7drJiyzRer5NLY3orKHzJjs7rgbyyNKAAVOLai2LLphq22FW38EhGjUbBU9thKZVCFTxz3UBnGoWiwcY1+EQ6nKiixcpZYdPFM0vYpjIarzDY+V7pPzEfVywEuQw8DKu2CVgBJZMVGK6QePOfRPJMrqj++4lLE/Ox99T933MISLmQxBWeo97CaIK4+E0+6b6go8en/oqD3fFvQODjnYYLYU/ICj6zMsB8siq540HvwT4jxM9C/f8IAvRqY/joImSU87RpU0cFM96enPelFBcwIDAQAB";

/// The sandbox's "Alipay" private key, which signs every sandbox answer. **Test key
/// generated for this project.**
pub const ALIPAY_SANDBOX_PRIVATE_KEY: &str = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCT8NrONzrNeQtzxuSlmkXs9GNSKHaQjAPSRLllK2vROC9TFKt3UE5rinjBL6mhyk8j0MEqlTqRbrt6G1cKk7uMc8oqO1qDud3KvCENJMwOK1gwgehYwVB24Olr9QQg4ycZlDfRoHqNzQf/IwqpCoQtFKOEibEFMexzzIMo/icEm09p4aW40n0Fw3WN5zLo7arS0JdQs7/nSJnt98TUDY+NawwNbVev2e58BNrumg2nY6ivPVuvgpcxr5cryC4JmAkvxDa8ZUe4DXPP6Zht7ly9nNoCrArM+iBwAqMKyYqQW1BmSnBiLFslRvmo/5DdJqTTi4IGPl2WSeaqjBgNrO4pAgMBAAECggEAH8DSDfHvxptk+GAnwl2nBZF84ez6adMLnO2QR2U2+oyPJ8tndDAB7PYnLfvfcnD8ZIkRdOTb0cxNJAvLNmN4HVDbAw6DQoO51aJki7Aqth3ai2rOpoIzlZh3sWrBDJgE0+oqwu0pcNchkMMCLj8qGIz1/eQZ4S4SfNZYDovibwvdP+YLp6W/X/GYGS+5IaVY2ROoBdpZ9MrpYoff27gRpedv4DNrN0VPLSTjHKXbhhMpk+PkgIr8+kHf497Bv3ULXibTpiwhAR+OGmgoJciRCxCYLInh+70rywftKkBND/NauUnkzTn1pJtfbMDi19jcvw+Et1LUmpoTUINc7NpZEwKBgQDIRA0bvz0hjwtbfUZq8DX4F6qtW/jDjtL78cnewYqajKg8aLKR4ZKyadXJ+etbJmjJhtt8tKQnaa9nIi32YxQFoJG9obheutDLAPWutN1SyJ8tjB+B+XPRWTM2OE+JKexuADVlhBJoHDBqKA12nXhw12PsvvuZFhSlg+G0vOQrdwKBgQC9HOg/b7LNpHkBEn8pS2WxP8sbWT9MQYM3xRqEva1PJPnZhe5Z1c2ed1o4nIHsiI57sqIywu8Bt3p+PpGWuoeQ4dh44sV1LG+IBes/x3xO/ANpRNrWIB0LNhTqWTAsp7vPO3m/F74nla1b7wuuCm9OAJJ9W7mcMM96A1Zq6z7bXwKBgCwDIKpfbgzpBgL2Vjp8TjAW63CsDNDVm7K5Ibdt64sprHOSQuRiob3KGq0H2tyuZUsc8zHF9WmgBWdyEI3cmnLeJgl5+C4Beo+Sx2u83gMqiikVaXtEGlsA8otQ9tHbP9WxAAsuamktAMrjwIm389dAzvohwuOTAbiackkpVi/jAoGAMuVixB/luV64ikdWHeEC329R1Gxykq1XCV1sw6jgydojvB1Fhrv5+NoaV/4XIXenETeEW7EG7ilZODzSpgRRk/aUcgRmLCDna25cX+/qTr+Yk25KjzJZXrkRa/jQ9FO4Qg+5tmpHbRPlckalmBOK3S1eP4q+K4EfdbEMQv5JDnUCgYEAkCnHoZwYDYMzxM5hfGNmTXR65mH/nGoPql4X9PARiy8MtZyES7VzwcIhtsYn1izu5HKcsvIsmw8G0W6ErV66uT82lultqBl+qnhlC3gjqUi6S2h0yTqyKdbHgZPGMKPMpMnuo9tI953n5OQbv1G9xXr9LCIY8D4egyF/aIrg510=";

/// The sandbox's "Alipay" public key (支付宝公钥) clients verify answers with.
pub const ALIPAY_PUBLIC_KEY: &str = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAk/Dazjc6zXkLc8bkpZpF7PRjUih2kIwD0kS5ZStr0TgvUxSrd1BOa4p4wS+pocpPI9DBKpU6kW67ehtXCpO7jHPKKjtag7ndyrwhDSTMDitYMIHoWMFQduDpa/UEIOMnGZQ30aB6jc0H/yMKqQqELRSjhImxBTHsc8yDKP4nBJtPaeGluNJ9BcN1jecy6O2q0tCXULO/50iZ7ffE1A2PjWsMDW1Xr9nufATa7poNp2Oorz1br4KXMa+XK8guCZgJL8Q2vGVHuA1zz+mYbe5cvZzaAqwKzPogcAKjCsmKkFtQZkpwYixbJUb5qP+Q3Sak04uCBj5dlknmqowYDazuKQIDAQAB";

/// A valid resident ID number (GB 11643 check character, real date), different for
/// every `n` below 6,000,000 (region 320102, born 1950-1967): distinct test inputs for
/// batches and benchmarks. None of them is a magic input (those are in region 110101),
/// so the sandbox answers each with its fixture certificates.
pub fn test_resident_id(n: u64) -> String {
    let day = n / 1000;
    let first17 = format!(
        "320102{:04}{:02}{:02}{:03}",
        1950 + day / 336,
        1 + (day / 28) % 12,
        1 + day % 28,
        n % 1000
    );
    // GB 11643-1999: weights 2^(17-i) mod 11, check characters 1 0 X 9 8 7 6 5 4 3 2
    // (written here, not taken from cred-core: the sandbox does not reuse the SDK).
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const C: &[u8; 11] = b"10X98765432";
    let sum: u32 = first17
        .bytes()
        .zip(W)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    format!("{first17}{}", char::from(C[(sum % 11) as usize]))
}

#[cfg(test)]
mod tests {
    #[test]
    fn test_resident_ids_are_distinct_and_valid() {
        let mut seen = std::collections::HashSet::new();
        for n in (0..2_000_000).step_by(997) {
            let id = super::test_resident_id(n);
            assert_eq!(id.len(), 18);
            assert!(seen.insert(id.clone()), "{id} twice");
        }
        // 3·7 + 2·9 + 1·5 + 2·4 + 1·2 + 9·1 + 5·6 + 1·9 + 1·5 = 107; 107 mod 11 = 8 → '4'.
        assert_eq!(super::test_resident_id(0), "320102195001010004");
    }
}
