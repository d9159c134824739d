# Frontier::RPC2 behind HTTP::Daemon (Frontier::Daemon serves /RPC2 only), with
# use_objects so <int> and <string> arrive typed.
use strict;
use warnings;
no warnings 'once';    # the settings come from common.pl, required at run time
use FindBin;
use HTTP::Daemon;
use HTTP::Response;
use Frontier::RPC2;
require "$FindBin::Bin/common.pl";

my %types = (
    'Frontier::RPC2::Integer' => 'int', 'Frontier::RPC2::String' => 'string',
    'Frontier::RPC2::Boolean' => 'boolean', 'Frontier::RPC2::Double' => 'double',
    'Frontier::RPC2::Float' => 'double', 'Frontier::RPC2::Base64' => 'base64',
    'Frontier::RPC2::DateTime::ISO8601' => 'dateTime',
);

sub describe {
    my ($value) = @_;
    my $type = $types{ref $value // ''};
    if ($type) {
        my $plain = $value->value;
        $plain = $plain ? JSON::PP::true() : JSON::PP::false() if $type eq 'boolean';
        $plain = 0 + $plain if $type eq 'int';
        return {type => $type, value => $plain};
    }
    return {type => 'struct', value => {map { $_ => describe($value->{$_}) } keys %$value}}
        if ref $value eq 'HASH';
    return {type => 'array', value => [map { describe($_) } @$value]} if ref $value eq 'ARRAY';
    return main::describe_plain($value);
}

my %methods;
for my $name (@main::METHODS) {
    $methods{$name} = sub { main::record($name, [@_], \&describe); main::answer($name, @_) };
}
my $coder = Frontier::RPC2->new(use_objects => 1, encoding => 'UTF-8');
my $daemon = HTTP::Daemon->new(LocalAddr => '127.0.0.1', LocalPort => $main::PORT, ReuseAddr => 1)
    or die "cannot listen: $!\n";
while (my $conn = $daemon->accept) {
    while (my $request = $conn->get_request) {
        my $response = HTTP::Response->new(200);
        $response->header('Content-Type' => 'text/xml');
        $response->content($coder->serve($request->content, \%methods));
        $conn->send_response($response);
    }
    $conn->close;
}
