# Shared by the Perl stacks: the environment contract, the record log and the answers.
# STACK_PORT: the loopback port; STACK_LOG: a file that gets one JSON line per call;
# STACK_METHODS: the comma-separated method names to serve (the function table's).
use strict;
use warnings;
use JSON::PP;

our $PORT = $ENV{STACK_PORT} or die "STACK_PORT is not set\n";
our $LOG = $ENV{STACK_LOG} or die "STACK_LOG is not set\n";
our @METHODS = split /,/, ($ENV{STACK_METHODS} // '');

my $json = JSON::PP->new->canonical->allow_nonref;

# $describe->($value) gives {type, value}; each stack passes its own.
sub record {
    my ($method, $params, $describe) = @_;
    open my $fh, '>>', $LOG or die "cannot write $LOG: $!\n";
    print $fh $json->encode({method => $method, params => [map { $describe->($_) } @$params]}), "\n";
    close $fh;
}

# A plain Perl value, as a stack that keeps no types sees it.
sub describe_plain {
    my ($value) = @_;
    return {type => 'nil', value => undef} unless defined $value;
    my $ref = ref $value;
    return {type => 'struct', value => {map { $_ => describe_plain($value->{$_}) } keys %$value}}
        if $ref eq 'HASH';
    return {type => 'array', value => [map { describe_plain($_) } @$value]} if $ref eq 'ARRAY';
    return {type => "object:$ref", value => "$value"} if $ref;
    return {type => 'scalar', value => "$value"};
}

# The answer to each call, in plain Perl values that the stack types by their look.
sub answer {
    my ($method, @params) = @_;
    my $recipient = $params[2];
    $recipient = $recipient->value if ref($recipient) && eval { $recipient->can('value') };
    return {email => $recipient, error_status => 0, ID_email => 12345678, error => 'OK'}
        if $method eq 'mailkit.email.wipe';
    return 'Sent subscribe email' if $method eq 'mailkit.email.revalidate';
    return 1099511627776 if $method eq 'mailkit.test.int40';    # 2**40
    return {} if $method eq 'mailkit.test.empty_struct';
    die "Too many parameters\n" if $method eq 'mailkit.test.fault';
    return 'OK';
}

1;
