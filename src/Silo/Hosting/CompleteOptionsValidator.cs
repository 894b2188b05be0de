using System.ComponentModel.DataAnnotations;
using System.Reflection;
using Microsoft.Extensions.Options;

namespace AgentGateway.Silo.Hosting;

/// <summary>
/// Validates an options class completely: every property's data annotations and then its
/// <see cref="IValidatableObject"/> rules, so a bad configuration is reported whole at start. (The
/// framework's DataAnnotations validation skips <see cref="IValidatableObject"/> once an attribute fails.)
/// Attribute errors are prefixed with the setting's configuration path.
/// </summary>
public sealed class CompleteOptionsValidator<TOptions>(string section) : IValidateOptions<TOptions>
    where TOptions : class
{
    private static readonly PropertyInfo[] Annotated = typeof(TOptions)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.GetIndexParameters().Length == 0 && p.GetCustomAttributes<ValidationAttribute>().Any())
        .ToArray();

    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        foreach (var property in Annotated)
        {
            var results = new List<ValidationResult>();
            var context = new ValidationContext(options) { MemberName = property.Name };
            if (!Validator.TryValidateProperty(property.GetValue(options), context, results))
            {
                failures.AddRange(results.Select(r => $"{section}:{property.Name}: {r.ErrorMessage}"));
            }
        }

        if (options is IValidatableObject validatable)
        {
            failures.AddRange(validatable.Validate(new ValidationContext(options)).Select(r => r.ErrorMessage ?? "invalid"));
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
